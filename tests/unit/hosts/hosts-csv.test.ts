import { describe, expect, test } from "vitest";
import {
  CsvLimitError,
  type CsvSource,
  type HostsCsvItem,
  type HostsCsvOptions,
  parseHostsCsv,
  parseHostsCsvBatches,
} from "../../../server/domain/csv/hosts-csv";

const LIMITS = { maxRows: 1000, maxBytes: 1_000_000 };

async function collect(source: CsvSource, options: Partial<HostsCsvOptions> = {}): Promise<HostsCsvItem[]> {
  const items: HostsCsvItem[] = [];
  for await (const item of parseHostsCsv(source, { ...LIMITS, ...options })) items.push(item);
  return items;
}

const errorsOf = (items: HostsCsvItem[]) =>
  items.filter((item) => item.kind === "error").map(({ line, column, message }) => ({ line, column, message }));
const rowsOf = (items: HostsCsvItem[]) => items.flatMap((item) => (item.kind === "row" ? [item] : []));
const rowLines = (items: HostsCsvItem[]) => rowsOf(items).map((row) => [row.line, row.fields.hostname]);

/** The bytes as an upload would deliver them: in chunks of the given size. */
async function* inChunks(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let start = 0; start < bytes.length; start += size) yield bytes.subarray(start, start + size);
}

describe("reading rows", () => {
  test("a simple file yields one row per host with its line number", async () => {
    const items = await collect("hostname,ip,port\nweb01,10.0.0.1,22\nweb02,10.0.0.2,2222\n");
    expect(items).toEqual([
      {
        kind: "row",
        line: 2,
        fields: expect.objectContaining({ hostname: "web01", ip: "10.0.0.1", port: 22 }),
        presentFields: ["hostname", "ip", "port"],
      },
      { kind: "row", line: 3, fields: expect.objectContaining({ hostname: "web02", port: 2222 }), presentFields: expect.any(Array) },
    ]);
  });

  test("every column is read into its host field", async () => {
    const csv =
      "hostname,ip,port,ssh_user,bastion,environment,os,tags,prometheus_instance,notes,ssh_template\n" +
      "Web01,10.0.0.1,2222,deploy,ops@jump:22,Prod,Debian 12,web;EU,10.0.0.1:9100,rack 4,ssh {{host}}\n";
    const [row] = rowsOf(await collect(csv));
    expect(row?.fields).toEqual({
      hostname: "web01",
      ip: "10.0.0.1",
      port: 2222,
      sshUser: "deploy",
      bastion: "ops@jump:22",
      environment: "prod",
      os: "Debian 12",
      tags: ["web", "eu"],
      prometheusInstance: "10.0.0.1:9100",
      notes: "rack 4",
      sshTemplate: "ssh {{host}}",
    });
  });

  test("columns may come in any order, with any case and surrounding spaces", async () => {
    const [row] = rowsOf(await collect(" IP , HostName ,Tags\n10.0.0.9,db01,a\n"));
    expect(row?.fields).toMatchObject({ hostname: "db01", ip: "10.0.0.9", tags: ["a"] });
    expect(row?.presentFields).toEqual(["ip", "hostname", "tags"]);
  });

  test("a missing column gives the field its default, an empty cell too", async () => {
    const [row] = rowsOf(await collect("hostname,port,os\nweb01,,\n"));
    expect(row?.fields).toMatchObject({ port: 22, os: null, ip: null, tags: [], notes: "" });
  });

  test("a UTF-8 byte order mark is ignored", async () => {
    const items = await collect(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("hostname,ip\nweb01,10.0.0.1\n")]));
    expect(items).toEqual([expect.objectContaining({ kind: "row", line: 2 })]);
  });

  test("CRLF line endings work like LF", async () => {
    const items = await collect("hostname,ip\r\nweb01,10.0.0.1\r\nweb02,bad\r\nweb03,10.0.0.3\r\n");
    expect(rowLines(items)).toEqual([
      [2, "web01"],
      [4, "web03"],
    ]);
    expect(errorsOf(items)).toEqual([{ line: 3, column: "ip", message: expect.stringMatching(/^IP address/) }]);
    expect(rowsOf(items)[0]?.fields.ip).toBe("10.0.0.1");
  });

  test("the last line may lack a line break", async () => {
    expect(rowLines(await collect("hostname\nweb01\nweb02"))).toEqual([
      [2, "web01"],
      [3, "web02"],
    ]);
  });

  test("quoted values keep commas, doubled quotes and line breaks, and line numbers stay physical", async () => {
    const csv = 'hostname,notes\nweb01,"rack 4, row ""B""\nsecond line\r\nthird line"\nweb02,x\nweb03,"a\nb"\nbad_host,\n';
    const items = await collect(csv);
    expect(rowLines(items)).toEqual([
      [2, "web01"],
      [5, "web02"],
      [6, "web03"],
    ]);
    expect(rowsOf(items)[0]?.fields.notes).toBe('rack 4, row "B"\nsecond line\r\nthird line');
    expect(errorsOf(items)).toEqual([{ line: 8, column: "hostname", message: expect.any(String) }]);
  });

  test("blank lines and rows of empty cells are skipped without shifting line numbers", async () => {
    const items = await collect("hostname,ip\n\nweb01,10.0.0.1\n,\n   \n\r\nweb02,\n\n");
    expect(rowLines(items)).toEqual([
      [3, "web01"],
      [7, "web02"],
    ]);
    expect(errorsOf(items)).toEqual([]);
  });

  test("a stray quote inside an unquoted value is kept as text", async () => {
    const [row] = rowsOf(await collect('hostname,os\nweb01,5" disk\n'));
    expect(row?.fields.os).toBe('5" disk');
  });

  test("a formula guard added by the export is removed again", async () => {
    const [row] = rowsOf(await collect("hostname,notes\nweb01,'=1+1\n"));
    expect(row?.fields.notes).toBe("=1+1");
  });

  test("a stream of chunks of any size, even splitting characters, gives the same result", async () => {
    const csv = Buffer.from('hostname,os,notes\nweb01,Débian,"naïve\nnote"\nweb02,Ubuntu ☃,x\n');
    const whole = await collect(csv);
    for (const size of [1, 2, 3, 5, 64]) {
      expect(await collect(inChunks(csv, size))).toEqual(whole);
    }
    expect(rowsOf(whole).map((row) => row.fields.os)).toEqual(["Débian", "Ubuntu ☃"]);
    expect(errorsOf(whole)).toEqual([]);
  });

  test("a file larger than the parser's first small pieces reads every row whole, across their boundaries", async () => {
    // ~90 KB: the first 64 KiB reach the parser in 4 KiB pieces. Rows of varying length put
    // two-byte characters and quoted line breaks across those piece boundaries.
    const notes = (i: number) => `note ${"é".repeat(i % 13)}\n${"x".repeat(i % 7)} ☃`;
    const csv = Buffer.from(`hostname,notes\n${Array.from({ length: 2000 }, (_, i) => `h${i}.example.com,"${notes(i)}"\n`).join("")}`);
    const items = await collect(csv, { maxRows: 2000 });
    expect(errorsOf(items)).toEqual([]);
    expect(rowsOf(items).map((row) => row.fields.notes)).toEqual(Array.from({ length: 2000 }, (_, i) => notes(i)));
  });

  test("a stream of strings is accepted", async () => {
    async function* strings() {
      yield "hostname\nweb";
      yield "01\n";
    }
    expect(rowLines(await collect(strings()))).toEqual([[2, "web01"]]);
  });
});

describe("delimiters", () => {
  test("a semicolon-separated file is recognised from its header", async () => {
    const items = await collect('hostname;ip;tags\nweb01;10.0.0.1;"a;b"\nweb02;10.0.0.2;c\n');
    expect(rowsOf(items).map((row) => [row.fields.hostname, row.fields.ip, row.fields.tags])).toEqual([
      ["web01", "10.0.0.1", ["a", "b"]],
      ["web02", "10.0.0.2", ["c"]],
    ]);
  });

  test("in a comma-separated file tags are separated by semicolons", async () => {
    const [row] = rowsOf(await collect("hostname,tags\nweb01,a;b;A\n"));
    expect(row?.fields.tags).toEqual(["a", "b"]);
  });

  test("blank lines before the header do not hide its delimiter", async () => {
    const items = await collect("\r\n\nhostname;ip\nweb01;10.0.0.1\n");
    expect(rowsOf(items).map((row) => [row.line, row.fields.ip])).toEqual([[4, "10.0.0.1"]]);
  });

  test("a single-column header is read as comma-separated", async () => {
    expect(rowLines(await collect("hostname\nweb01\n"))).toEqual([[2, "web01"]]);
  });

  test("separators inside quoted header names do not count", async () => {
    const items = await collect('hostname,"ip"\nweb01,10.0.0.1\n');
    expect(rowsOf(items)[0]?.fields.ip).toBe("10.0.0.1");
  });

  test("an explicit delimiter overrides detection", async () => {
    const items = await collect("hostname;ip\nweb01;10.0.0.1\n", { delimiter: "," });
    expect(errorsOf(items)[0]).toEqual({ line: 1, column: "hostname;ip", message: expect.stringMatching(/^Unknown column/) });
    expect(rowLines(await collect("hostname;notes\nweb01;a,b\n", { delimiter: ";" }))).toEqual([[2, "web01"]]);
  });
});

describe("reporting errors", () => {
  test("every error in the file is reported, several per row if need be", async () => {
    const csv = "hostname,ip,port,ssh_user\nweb_01,10.0.0,0,-root\nweb02,10.0.0.2,22,ok\nweb03,,99999,\n";
    const items = await collect(csv);
    expect(errorsOf(items)).toEqual([
      { line: 2, column: "hostname", message: 'Hostname may only contain letters, digits, "-" and "." (found "_")' },
      {
        line: 2,
        column: "ip",
        message: "IP address must be a valid IPv4 (e.g. 10.0.0.5) or IPv6 (e.g. 2001:db8::5) address",
      },
      { line: 2, column: "port", message: "Port must be a whole number from 1 to 65535" },
      { line: 2, column: "ssh_user", message: 'SSH user must not start with "-"' },
      { line: 4, column: "port", message: "Port must be a whole number from 1 to 65535" },
    ]);
    expect(rowLines(items)).toEqual([[3, "web02"]]);
  });

  test("errors come in file order, interleaved with rows", async () => {
    const items = await collect("hostname,ip\nweb01,x\nweb02,\nweb03,y\n");
    expect(items.map((item) => [item.kind, item.line])).toEqual([
      ["error", 2],
      ["row", 3],
      ["error", 4],
    ]);
  });

  test("a missing hostname value is reported on its line", async () => {
    const items = await collect("hostname,ip\n,10.0.0.1\n  ,10.0.0.2\n");
    expect(errorsOf(items)).toEqual([
      { line: 2, column: "hostname", message: "Hostname is required" },
      { line: 3, column: "hostname", message: "Hostname is required" },
    ]);
  });

  test("messages for other columns name them in snake_case", async () => {
    const csv = "hostname,prometheus_instance,ssh_template,environment\nweb01,nope,ssh $X,prod env\n";
    expect(errorsOf(await collect(csv)).map((error) => error.column)).toEqual([
      "environment",
      "prometheus_instance",
      "ssh_template",
    ]);
  });

  test("a duplicate hostname is reported on its second line with the line of the first", async () => {
    const items = await collect("hostname,ip\nweb01,10.0.0.1\nweb02,10.0.0.2\nWEB01 ,10.0.0.3\nweb01,10.0.0.4\n");
    expect(errorsOf(items)).toEqual([
      {
        line: 4,
        column: "hostname",
        message: 'Hostname "web01" already appears on line 2; each host may appear only once',
      },
      {
        line: 5,
        column: "hostname",
        message: 'Hostname "web01" already appears on line 2; each host may appear only once',
      },
    ]);
    expect(rowLines(items)).toEqual([
      [2, "web01"],
      [3, "web02"],
    ]);
  });

  test("a row with other errors still claims its hostname for duplicate detection", async () => {
    const items = await collect("hostname,ip\nweb01,bad\nweb01,10.0.0.1\n");
    expect(errorsOf(items).map((error) => [error.line, error.column])).toEqual([
      [2, "ip"],
      [3, "hostname"],
    ]);
  });

  test("a row with too few or too many fields is reported and not read further", async () => {
    const items = await collect("hostname,ip,os\nweb01,10.0.0.1\nweb02,10.0.0.2,Debian,extra\nweb03,10.0.0.3,Debian\n");
    expect(errorsOf(items)).toEqual([
      {
        line: 2,
        column: null,
        message: 'This row has 2 fields but the header has 3 columns; a value containing "," must be in double quotes',
      },
      {
        line: 3,
        column: null,
        message: 'This row has 4 fields but the header has 3 columns; a value containing "," must be in double quotes',
      },
    ]);
    expect(rowLines(items)).toEqual([[4, "web03"]]);
  });

  test("a quote that is never closed is reported on the line it opens", async () => {
    const items = await collect('hostname,notes\nweb01,ok\nweb02,"never closed\nweb03,x\n');
    expect(rowLines(items)).toEqual([[2, "web01"]]);
    expect(errorsOf(items)).toEqual([
      {
        line: 3,
        column: null,
        message: 'A quoted value starting on this line is never closed; check for a missing or extra double quote (")',
      },
    ]);
  });
});

describe("a failing source", () => {
  test("its error reaches the caller: the import fails rather than looking complete", async () => {
    async function* failing() {
      yield Buffer.from("hostname\nweb01\n");
      throw new Error("connection reset");
    }
    await expect(collect(failing())).rejects.toThrow("connection reset");
  });

  test("a file that is one unclosed quote reports only that", async () => {
    expect(errorsOf(await collect('"hostname\nweb01\n'))).toEqual([
      { line: 1, column: null, message: expect.stringMatching(/^A quoted value starting on this line is never closed/) },
    ]);
  });
});

describe("the header", () => {
  test("an unknown column is reported on line 1 and ignored, the rows are still read", async () => {
    const items = await collect("hostname,colour,ip\nweb01,blue,10.0.0.1\n");
    expect(errorsOf(items)).toEqual([
      {
        line: 1,
        column: "colour",
        message:
          'Unknown column "colour"; the columns are hostname, ip, port, ssh_user, bastion, environment, os, tags, prometheus_instance, notes, ssh_template',
      },
    ]);
    expect(rowsOf(items)[0]?.fields).toMatchObject({ hostname: "web01", ip: "10.0.0.1" });
  });

  test("an unknown column that looks like a known one gets a suggestion", async () => {
    expect(errorsOf(await collect("hostname,sshUser,Prometheus Instance\n"))).toEqual([
      { line: 1, column: "sshUser", message: 'Unknown column "sshUser"; did you mean "ssh_user"?' },
      {
        line: 1,
        column: "Prometheus Instance",
        message: 'Unknown column "Prometheus Instance"; did you mean "prometheus_instance"?',
      },
    ]);
  });

  test("a column named twice is reported and only its first occurrence is read", async () => {
    const items = await collect("hostname,ip,IP\nweb01,10.0.0.1,bad\n");
    expect(errorsOf(items)).toEqual([
      { line: 1, column: "ip", message: 'The column "ip" appears more than once (columns 2 and 3); keep one' },
    ]);
    expect(rowsOf(items)[0]?.fields.ip).toBe("10.0.0.1");
  });

  test("a header cell without a name is reported", async () => {
    expect(errorsOf(await collect("hostname,,ip\n"))).toEqual([
      {
        line: 1,
        column: null,
        message:
          "Column 2 of the header has no name; name it (hostname, ip, port, ssh_user, bastion, environment, os, tags, prometheus_instance, notes, ssh_template) or remove it",
      },
    ]);
  });

  test("without a hostname column the header errors are reported and no row is read", async () => {
    const items = await collect("name,ip\nweb01,10.0.0.1\nweb02,10.0.0.2\n");
    expect(errorsOf(items)).toEqual([
      { line: 1, column: "name", message: expect.stringMatching(/^Unknown column "name"/) },
      {
        line: 1,
        column: "hostname",
        message:
          'The header has no "hostname" column, which is required; the first line must name the columns, e.g. hostname,ip,port',
      },
    ]);
    expect(rowsOf(items)).toEqual([]);
  });

  test("a file with only a header yields nothing at all", async () => {
    expect(await collect("hostname,ip,port\n")).toEqual([]);
    expect(await collect("hostname,ip,port")).toEqual([]);
    expect(await collect("hostname,ip\r\n\r\n")).toEqual([]);
  });

  test.each([
    ["no bytes", ""],
    ["only a byte order mark", "\uFEFF"],
    ["only blank lines", "\n\r\n  \n"],
  ])("a file with %s is reported as empty", async (_, csv) => {
    expect(await collect(csv)).toEqual([{ kind: "error", line: 1, column: null, message: "The file is empty" }]);
  });
});

describe("bytes that are not UTF-8", () => {
  const latin1 = (text: string) => Buffer.from(text, "latin1");
  const message =
    "This line has bytes that are not valid UTF-8 (0xE9); the file may be in Latin-1 or Windows-1252: save it as UTF-8 and import it again";

  test("a Latin-1 é is reported on its line and column, and the other rows are kept", async () => {
    const items = await collect(latin1("hostname,os\nweb01,Debian\nweb02,Syst\u00e9me\nweb03,Alpine\n"));
    expect(errorsOf(items)).toEqual([{ line: 3, column: "os", message }]);
    expect(rowLines(items)).toEqual([
      [2, "web01"],
      [4, "web03"],
    ]);
  });

  test("is found whatever the chunk boundaries", async () => {
    const bytes = latin1("hostname,notes\nweb01,caf\u00e9\nweb02,ok\nweb03,\u00e9t\u00e9\n");
    for (const size of [1, 2, 7, 1024]) {
      const items = await collect(inChunks(bytes, size));
      expect(errorsOf(items).map((error) => [error.line, error.column])).toEqual([
        [2, "notes"],
        [4, "notes"],
      ]);
      expect(rowLines(items)).toEqual([[3, "web02"]]);
    }
  });

  test("is reported on the physical line it is on inside a multi-line value", async () => {
    const items = await collect(latin1('hostname,notes\nweb01,"line one\nline tw\u00e9"\nweb02,x\n'));
    expect(errorsOf(items)).toEqual([{ line: 3, column: "notes", message }]);
    expect(rowLines(items)).toEqual([[4, "web02"]]);
  });

  test("in the hostname it is reported once, not also as an invalid hostname or duplicate", async () => {
    const items = await collect(latin1("hostname\nw\u00e9b\nw\u00e9b\n"));
    expect(errorsOf(items)).toEqual([
      { line: 2, column: "hostname", message },
      { line: 3, column: "hostname", message },
    ]);
  });

  test("in the header it is reported on line 1", async () => {
    const items = await collect(latin1("hostname,r\u00e9gion\nweb01,x\n"));
    expect(errorsOf(items)).toEqual([
      { line: 1, column: null, message },
      { line: 1, column: "r\uFFFDgion", message: expect.stringMatching(/^Unknown column/) },
    ]);
  });

  test("a multi-byte character cut off at the end of the file is reported", async () => {
    const items = await collect(Buffer.concat([Buffer.from("hostname,os\nweb01,x\xe2"), Buffer.from([0xe2, 0x98])]));
    expect(errorsOf(items)).toEqual([
      { line: 2, column: "os", message: expect.stringContaining("(0xE2)") },
    ]);
  });

  test("valid multi-byte characters, a legitimate U+FFFD included, raise nothing", async () => {
    const items = await collect("hostname,os,notes\nweb01,Ubuntu ☃,日本語 \uFFFD 😀\n");
    expect(errorsOf(items)).toEqual([]);
    expect(rowsOf(items)[0]?.fields.notes).toBe("日本語 \uFFFD 😀");
  });
});

describe("limits", () => {
  /** Endless rows; counts how many chunks were pulled and whether the source was closed. */
  function endless() {
    const state = { pulled: 0, closed: false };
    async function* source() {
      try {
        yield Buffer.from("hostname\n");
        for (let chunk = 0; ; chunk++) {
          state.pulled += 1;
          yield Buffer.from(Array.from({ length: 100 }, (_, i) => `h${chunk}-${i}\n`).join(""));
        }
      } finally {
        state.closed = true;
      }
    }
    return { state, source: source() };
  }

  test("exactly maxRows rows is fine; blank lines and the header do not count", async () => {
    expect(rowsOf(await collect("hostname\n\nweb01\nweb02\n\n", { maxRows: 2 }))).toHaveLength(2);
  });

  test("one row more than maxRows throws CsvLimitError with a clear message", async () => {
    const error = await collect("hostname\nweb01\nweb02\nweb03\n", { maxRows: 2 }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(CsvLimitError);
    expect(error).toMatchObject({ limit: "rows", max: 2, message: "The file has more than 2 rows; the limit is 2" });
  });

  test("the row limit message uses thousands separators", () => {
    expect(new CsvLimitError("rows", 200_000).message).toBe("The file has more than 200,000 rows; the limit is 200,000");
  });

  test("exceeding maxRows stops reading the source at once", async () => {
    const { state, source } = endless();
    await expect(collect(source, { maxRows: 250 })).rejects.toThrow(CsvLimitError);
    // Three chunks of 100 rows hold row 251; at most one more is read ahead.
    expect(state.pulled).toBeLessThanOrEqual(4);
    expect(state.closed).toBe(true);
  });

  test("exceeding maxBytes in a stream throws and stops reading it", async () => {
    const { state, source } = endless();
    const error = await collect(source, { maxBytes: 5000, maxRows: 1_000_000 }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(CsvLimitError);
    expect(error).toMatchObject({ limit: "bytes", max: 5000, message: "The file is larger than 5,000 bytes; the limit is 5,000 bytes" });
    expect(state.pulled).toBeLessThan(10);
    expect(state.closed).toBe(true);
  });

  test("a Buffer over maxBytes is refused before anything is parsed", async () => {
    const items: HostsCsvItem[] = [];
    const run = async () => {
      for await (const item of parseHostsCsv(Buffer.from("hostname\nweb01\n"), { maxRows: 10, maxBytes: 10 })) {
        items.push(item);
      }
    };
    await expect(run()).rejects.toThrow("The file is larger than 10 bytes; the limit is 10 bytes");
    expect(items).toEqual([]);
  });

  test("a byte limit in whole mebibytes reads as such", () => {
    expect(new CsvLimitError("bytes", 10 * 1024 * 1024).message).toBe(
      "The file is larger than 10 MiB; the limit is 10 MiB",
    );
  });

  test("exactly maxBytes bytes is fine, the byte order mark included", async () => {
    const csv = Buffer.from("\uFEFFhostname\nweb01\n");
    expect(rowsOf(await collect(csv, { maxBytes: csv.length }))).toHaveLength(1);
  });

  test("a reader that takes its time between batches still gets every row of a streamed file", async () => {
    // Chunks arrive from I/O while the reader is busy elsewhere: the parser fills up and
    // announces it before the reader waits again, which must not leave both waiting.
    const rows = 20_000;
    async function* network(): AsyncGenerator<Buffer> {
      yield Buffer.from("hostname,notes\n");
      for (let start = 0; start < rows; start += 500) {
        await new Promise((resolve) => setImmediate(resolve));
        yield Buffer.from(Array.from({ length: 500 }, (_, i) => `host-${start + i}.example,note ${start + i}\n`).join(""));
      }
    }
    let seen = 0;
    for await (const items of parseHostsCsvBatches(network(), { maxRows: rows, maxBytes: 1e9 })) {
      seen += items.filter((item) => item.kind === "row").length;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(seen).toBe(rows);
  }, 20_000);

  test("stopping early stops reading the source", async () => {
    const { state, source } = endless();
    for await (const item of parseHostsCsv(source, { maxRows: 1_000_000, maxBytes: 1e9 })) {
      if (item.line > 150) break;
    }
    expect(state.closed).toBe(true);
  });
});

describe("progress", () => {
  test("is reported with the bytes read and rows seen, ending with the totals", async () => {
    const csv = Buffer.from(`hostname\n${Array.from({ length: 5000 }, (_, i) => `host-${i}`).join("\n")}\n`);
    const reports: Array<{ bytes: number; rows: number }> = [];
    await collect(csv, { maxRows: 10_000, onProgress: (progress) => reports.push(progress) });
    expect(reports.length).toBeGreaterThan(1);
    expect(reports.at(-1)).toEqual({ bytes: csv.length, rows: 5000 });
    for (let i = 1; i < reports.length; i++) {
      expect(reports[i].bytes).toBeGreaterThanOrEqual(reports[i - 1].bytes);
      expect(reports[i].rows).toBeGreaterThanOrEqual(reports[i - 1].rows);
    }
  });
});
