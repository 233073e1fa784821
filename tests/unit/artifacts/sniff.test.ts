import { describe, expect, it } from "vitest";
import { isSafeToLabel, servedContentType, sniffContentType } from "../../../server/domain/artifacts/sniff";

const bytes = (...values: number[]) => Buffer.from(values);
const text = (value: string) => Buffer.from(value, "utf8");

function tarHead(): Buffer {
  const head = Buffer.alloc(512);
  head.write("etc/hosts", 0);
  head.write("ustar\u000000", 257, "latin1");
  return head;
}

describe("sniffContentType", () => {
  it.each([
    ["png", bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0), "image/png"],
    ["jpeg", bytes(0xff, 0xd8, 0xff, 0xe0), "image/jpeg"],
    ["gif87a", text("GIF87a...."), "image/gif"],
    ["gif89a", text("GIF89a...."), "image/gif"],
    ["webp", Buffer.concat([text("RIFF"), bytes(1, 2, 3, 4), text("WEBPVP8 ")]), "image/webp"],
    ["pdf", text("%PDF-1.7\n"), "application/pdf"],
    ["zip", bytes(0x50, 0x4b, 0x03, 0x04, 0x14, 0), "application/zip"],
    ["empty zip", bytes(0x50, 0x4b, 0x05, 0x06), "application/zip"],
    ["gzip", bytes(0x1f, 0x8b, 0x08, 0), "application/gzip"],
    ["bzip2", text("BZh91AY&SY"), "application/x-bzip2"],
    ["xz", bytes(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0), "application/x-xz"],
    ["zstd", bytes(0x28, 0xb5, 0x2f, 0xfd, 0), "application/zstd"],
    ["7z", bytes(0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0), "application/x-7z-compressed"],
    ["tar", tarHead(), "application/x-tar"],
    ["pcap", bytes(0xd4, 0xc3, 0xb2, 0xa1, 2, 0), "application/vnd.tcpdump.pcap"],
    ["pcap big-endian", bytes(0xa1, 0xb2, 0xc3, 0xd4, 0, 2), "application/vnd.tcpdump.pcap"],
    ["pcap nanosecond", bytes(0x4d, 0x3c, 0xb2, 0xa1, 2, 0), "application/vnd.tcpdump.pcap"],
    ["pcapng", bytes(0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0), "application/x-pcapng"],
  ])("recognises %s from its magic bytes", (_name, head, expected) => {
    expect(sniffContentType(head)).toBe(expected);
  });

  it("calls a RIFF file that is not WEBP (a WAV) octet-stream", () => {
    expect(sniffContentType(Buffer.concat([text("RIFF"), bytes(1, 0, 0, 0), text("WAVEfmt "), bytes(0x10, 0)]))).toBe(
      "application/octet-stream",
    );
  });

  it("reports UTF-8 logs, including ANSI colours and non-Latin text, as plain text", () => {
    expect(sniffContentType(text("2025-03-01 \u001b[31mERROR\u001b[0m диск заполнен\r\n\tat x\n"))).toBe(
      "text/plain; charset=utf-8",
    );
  });

  it("reports an empty file as plain text", () => {
    expect(sniffContentType(Buffer.alloc(0))).toBe("text/plain; charset=utf-8");
  });

  it("still reports text whose sample ends in the middle of a character", () => {
    const cut = text("héllo €").subarray(0, -1);
    expect(sniffContentType(cut)).toBe("text/plain; charset=utf-8");
  });

  it.each([
    ["NUL bytes", text("abc\u0000def")],
    ["invalid UTF-8", bytes(0x61, 0xc3, 0x28, 0x62)],
    ["UTF-16 with BOM", Buffer.from("\ufeffhello", "utf16le")],
    ["random binary", bytes(0x00, 0x01, 0x02, 0x03, 0xfe, 0xff)],
    ["stray control bytes", text("abc\u0001\u0002def")],
  ])("reports %s as octet-stream", (_name, head) => {
    expect(sniffContentType(head)).toBe("application/octet-stream");
  });

  it.each([
    ["HTML", "<!DOCTYPE html><html><script>alert(1)</script></html>"],
    ["SVG", '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'],
    ["XML", '<?xml version="1.0"?><x/>'],
  ])("never reports %s as markup, whatever the client claimed", (_name, content) => {
    const type = sniffContentType(text(content));
    expect(type).toBe("text/plain; charset=utf-8");
    expect(type).not.toMatch(/html|svg|xml/);
  });

  it("does not mistake a short buffer for a signature it only begins", () => {
    expect(sniffContentType(bytes(0x89, 0x50))).toBe("application/octet-stream");
    expect(sniffContentType(text("%PD"))).toBe("text/plain; charset=utf-8");
  });
});

describe("isSafeToLabel", () => {
  it.each([
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/zip",
    "application/gzip",
    "application/x-tar",
    "text/plain; charset=utf-8",
    "TEXT/PLAIN",
  ])("lets %s be sent as itself", (type) => {
    expect(isSafeToLabel(type)).toBe(true);
  });

  it.each(["image/svg+xml", "text/html", "application/xhtml+xml", "text/xml", "application/javascript", "", "garbage"])(
    "refuses to label %j",
    (type) => {
      expect(isSafeToLabel(type)).toBe(false);
    },
  );
});

describe("servedContentType", () => {
  it("sends unsafe types as octet-stream", () => {
    expect(servedContentType("text/html; charset=utf-8")).toBe("application/octet-stream");
    expect(servedContentType("image/svg+xml")).toBe("application/octet-stream");
  });

  it("sends safe types as their canonical form, text always as UTF-8", () => {
    expect(servedContentType("Image/PNG")).toBe("image/png");
    expect(servedContentType("text/plain; charset=latin1")).toBe("text/plain; charset=utf-8");
  });
});
