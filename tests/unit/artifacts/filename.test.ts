import { describe, expect, it } from "vitest";
import { contentDisposition, sanitiseOriginalName, storedExtension } from "../../../server/domain/artifacts/filename";

const bytes = (text: string) => Buffer.byteLength(text, "utf8");

describe("sanitiseOriginalName", () => {
  it.each([
    ["../../etc/passwd", "passwd"],
    ["..\\..\\x", "x"],
    ["C:\\Users\\ops\\Desktop\\report.txt", "report.txt"],
    ["%2e%2e%2fetc%2fpasswd", "passwd"],
    ["%2E%2E%5Cwin.ini", "win.ini"],
    ["%252e%252e%252fsecret.txt", "secret.txt"],
    ["logs/", "logs"],
  ])("keeps only the last path segment of %j", (raw, expected) => {
    expect(sanitiseOriginalName(raw)).toBe(expected);
  });

  it.each([["."], [".."], [""], ["   "], ["../.."], ["%2e%2e"], ["..."], ["\u0000"], ["\u202e"], ["/"]])(
    "refuses %j and answers file",
    (raw) => {
      expect(sanitiseOriginalName(raw)).toBe("file");
    },
  );

  it("removes NUL and other control characters", () => {
    expect(sanitiseOriginalName("evil.txt\u0000.exe")).toBe("evil.txt.exe");
    expect(sanitiseOriginalName("a\u0007b\u007f\u0085c.log")).toBe("abc.log");
  });

  it("removes right-to-left overrides and other bidi controls so the name reads as stored", () => {
    expect(sanitiseOriginalName("invoice\u202Efdp.exe")).toBe("invoicefdp.exe");
    expect(sanitiseOriginalName("\u2066a\u2067b\u2068c\u2069\u200e\u200f\u061c\u202a\u202b\u202c\u202d.txt")).toBe("abc.txt");
    expect(sanitiseOriginalName("zero\u200bwidth\ufeff.txt")).toBe("zerowidth.txt");
  });

  it("turns tabs and line breaks into single spaces and trims", () => {
    expect(sanitiseOriginalName("  nightly \t\r\n backup   log.txt  ")).toBe("nightly backup log.txt");
  });

  it("keeps non-Latin names, emoji and a leading dot", () => {
    expect(sanitiseOriginalName("журнал 🚀.log")).toBe("журнал 🚀.log");
    expect(sanitiseOriginalName(".bashrc")).toBe(".bashrc");
  });

  it("normalises decomposed accents so the same name is stored the same way", () => {
    expect(sanitiseOriginalName("re\u0301sume\u0301.pdf")).toBe("r\u00e9sum\u00e9.pdf");
  });

  it("leaves a percent sign that is not an escape as typed", () => {
    expect(sanitiseOriginalName("100% done %zz.txt")).toBe("100% done %zz.txt");
    expect(sanitiseOriginalName("bad %ff byte.txt")).toBe("bad %ff byte.txt");
  });

  it("limits a 10 KB name to 255 bytes and keeps the extension", () => {
    const name = sanitiseOriginalName(`${"a".repeat(10 * 1024)}.tar.gz`);
    expect(bytes(name)).toBeLessThanOrEqual(255);
    expect(name.endsWith(".gz")).toBe(true);
    expect(name.startsWith("aaaa")).toBe(true);
  });

  it("never cuts a multi-byte character or emoji in half", () => {
    const name = sanitiseOriginalName(`${"👩‍💻é".repeat(200)}.log`);
    expect(bytes(name)).toBeLessThanOrEqual(255);
    expect(name.endsWith(".log")).toBe(true);
    expect(name).not.toContain("\ufffd");
    expect(Buffer.from(name, "utf8").toString("utf8")).toBe(name);
  });

  it("cuts a name whose extension is absurdly long as plain text", () => {
    const name = sanitiseOriginalName(`x.${"y".repeat(1000)}`);
    expect(bytes(name)).toBe(255);
  });
});

describe("storedExtension", () => {
  it.each([
    ["app.LOG", "log"],
    ["dump.tar.gz", "gz"],
    ["shot.JPEG", "jpeg"],
    ["capture.pcap", "pcap"],
    ["server.pem", "pem"],
    ["deploy.sh", "sh"],
    ["report.pdf", "pdf"],
  ])("keeps the safe extension of %j", (name, expected) => {
    expect(storedExtension(name)).toBe(expected);
  });

  it.each([["page.html"], ["image.svg"], ["feed.xml"], ["run.exe"], ["noext"], [".bashrc"], ["x.php"], ["a/b.txt/evil"], ["weird.t xt"]])(
    "stores %j as bin",
    (name) => {
      expect(storedExtension(name)).toBe("bin");
    },
  );
});

describe("contentDisposition", () => {
  it("sends an attachment with both a plain and a UTF-8 filename", () => {
    expect(contentDisposition("report.txt")).toBe(`attachment; filename="report.txt"; filename*=UTF-8''report.txt`);
  });

  it("transliterates accents in the ASCII fallback and percent-encodes the exact name", () => {
    expect(contentDisposition("résumé €.pdf")).toBe(
      `attachment; filename="resume _.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%82%AC.pdf`,
    );
  });

  it("cannot be broken out of by quotes, backslashes or line breaks", () => {
    const header = contentDisposition('a"b\\c\r\nSet-Cookie: x=1.txt');
    expect(header).not.toMatch(/[\r\n]/);
    expect(header).toMatch(/^attachment; filename="[^"\\]*"; filename\*=UTF-8''[A-Za-z0-9%!#$&+.^_`|~-]+$/);
  });

  it("escapes the characters RFC 8187 does not allow unencoded", () => {
    expect(contentDisposition("it's (1)*.txt")).toContain("filename*=UTF-8''it%27s%20%281%29%2A.txt");
  });

  it("strips path pieces before naming the download", () => {
    expect(contentDisposition("../../etc/passwd")).toContain('filename="passwd"');
  });
});
