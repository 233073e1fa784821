import { type Parser, parse } from "csv-parse";
import { byteChunks, type CsvSource, knownSize } from "./byte-chunks";
import { CsvLimitError } from "./csv-limits";
import { HostsCsvRecords, type HostsCsvItem } from "./hosts-csv-records";
import { Utf8LineScanner } from "./utf8-scanner";

export { CsvLimitError } from "./csv-limits";
export { HOSTS_CSV_COLUMNS, HOSTS_CSV_TAG_SEPARATOR, type HostsCsvColumn } from "./hosts-csv-columns";
export type { HostsCsvError, HostsCsvItem, HostsCsvRow } from "./hosts-csv-records";
export type { CsvSource } from "./byte-chunks";

export type CsvDelimiter = "," | ";";

export type HostsCsvOptions = {
  /** "auto" (the default) picks "," or ";" from the header line. */
  delimiter?: CsvDelimiter | "auto";
  /** Data rows allowed (header and blank lines not counted); one more throws CsvLimitError. */
  maxRows: number;
  /** Bytes allowed, BOM included; one more throws CsvLimitError. */
  maxBytes: number;
  /** Called after each chunk of input (at most 64 KiB) and at the end. */
  onProgress?: (progress: { bytes: number; rows: number }) => void;
};

/**
 * Reads a hosts CSV as a stream and yields, in file order, each valid host as a row
 * and every problem as an error (with the line where its record starts and the
 * column). Memory stays flat whatever the file size, apart from one map entry per
 * hostname for duplicate detection. Throws CsvLimitError as soon as a limit is
 * exceeded, without reading further.
 */
export async function* parseHostsCsv(
  source: CsvSource,
  options: HostsCsvOptions,
): AsyncGenerator<HostsCsvItem, void, undefined> {
  for await (const items of parseHostsCsvBatches(source, options)) yield* items;
}

/**
 * The same items, handed out as arrays: everything parsed from one chunk of input (at
 * most 64 KiB) at a time. For bulk readers: an async step per row costs more than the
 * row's own checks.
 */
export async function* parseHostsCsvBatches(
  source: CsvSource,
  options: HostsCsvOptions,
): AsyncGenerator<HostsCsvItem[], void, undefined> {
  const size = knownSize(source);
  if (size !== null && size > options.maxBytes) throw new CsvLimitError("bytes", options.maxBytes);

  const chunks = byteChunks(source);
  const utf8 = new Utf8LineScanner();
  let bytes = 0;
  const countBytes = (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > options.maxBytes) throw new CsvLimitError("bytes", options.maxBytes);
  };
  let parser: Parser | null = null;
  let writing: Promise<void> | null = null;

  try {
    const head = await readFirstLine(chunks, countBytes);
    const delimiter =
      options.delimiter === "," || options.delimiter === ";" ? options.delimiter : detectDelimiter(head.line);
    const records = new HostsCsvRecords(utf8, { maxRows: options.maxRows, delimiter });
    const activeParser = createParser(delimiter);
    parser = activeParser;

    // csv-parse gives up on a record only for a quote never closed; it says how many
    // records came before, which places the error in the output.
    const unreadableAfter: number[] = [];
    activeParser.on("skip", () => unreadableAfter.push(activeParser.info.records));

    // The writer feeds the parser while this generator reads from it, one chunk at a
    // time, which keeps memory flat. Each chunk passes the UTF-8 scanner before the
    // parser, so the scanner has seen every record read here.
    let fed = 0;
    const feedPiece = async (piece: Buffer) => {
      fed += piece.length;
      utf8.push(piece);
      options.onProgress?.({ bytes, rows: records.rows });
      await writeAndWait(activeParser, piece);
    };
    const feed = async (chunk: Buffer) => {
      let rest = chunk;
      while (fed < RAMP_UP_BYTES && rest.length > RAMP_UP_PIECE) {
        await feedPiece(rest.subarray(0, RAMP_UP_PIECE));
        rest = rest.subarray(RAMP_UP_PIECE);
      }
      await feedPiece(rest);
    };
    writing = (async () => {
      try {
        for (const chunk of head.chunks) {
          if (activeParser.destroyed) return;
          await feed(chunk);
        }
        for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
          if (activeParser.destroyed) return;
          countBytes(next.value);
          await feed(next.value);
        }
        utf8.end();
        activeParser.end();
      } catch (error) {
        // Ends the reading loop below with the same error (a CsvLimitError, a failing
        // upload stream), unless reading has already stopped.
        activeParser.destroy(error instanceof Error ? error : new Error(String(error)));
      }
    })();

    // Takes every record the parser holds, then waits for more: one step per chunk of
    // input rather than per record.
    let read = 0;
    for (;;) {
      const items: HostsCsvItem[] = [];
      for (let cells = activeParser.read() as string[] | null; cells !== null; cells = activeParser.read() as string[] | null) {
        records.record(cells, items);
        read += 1;
        while (unreadableAfter.length > 0 && unreadableAfter[0] <= read) {
          unreadableAfter.shift();
          for (const item of records.unreadableRecord()) items.push(item);
        }
        if (records.stopped) break;
      }
      if (items.length > 0) yield items;
      if (records.stopped) return;
      // While the batch was out, the parser may have filled up again (and announced it
      // to nobody): read again before waiting, or both sides would wait for ever.
      if (items.length > 0) continue;
      if (activeParser.errored) throw activeParser.errored;
      if (activeParser.readableEnded || activeParser.destroyed) break;
      await readableOrDone(activeParser);
    }
    if (activeParser.errored) throw activeParser.errored;
    const rest: HostsCsvItem[] = [];
    for (const _ of unreadableAfter) for (const item of records.unreadableRecord()) rest.push(item);
    for (const item of records.finish()) rest.push(item);
    if (rest.length > 0) yield rest;
    options.onProgress?.({ bytes, rows: records.rows });
  } finally {
    parser?.destroy();
    await writing;
    // Stops reading the source (e.g. destroys an upload stream) when a limit was hit
    // or the caller stopped early.
    await chunks.return(undefined);
  }
}

/**
 * The first 64 KiB go to the parser in 4 KiB pieces. A new parser is slow on its first
 * input (~40 ms for a 64 KiB chunk on a 2-core machine, ~3 ms for the next ones), and the
 * first rows of an apply are what set the database working: with small pieces they come
 * out as they are parsed, not after the whole chunk.
 */
const RAMP_UP_BYTES = 64 * 1024;
const RAMP_UP_PIECE = 4 * 1024;

/** Resolves when the parser has records to read, has ended, or has failed or closed. */
function readableOrDone(parser: Parser): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      parser.off("readable", done);
      parser.off("end", done);
      parser.off("error", done);
      parser.off("close", done);
      resolve();
    };
    parser.on("readable", done);
    parser.on("end", done);
    parser.on("error", done);
    parser.on("close", done);
  });
}

/**
 * Writes one chunk and resolves once the parser has parsed it and the reader has begun
 * taking its records, so at most about one chunk is read ahead of the rows: a row limit
 * stops an upload right there. Also resolves if the parser is destroyed (reading stopped).
 */
function writeAndWait(parser: Parser, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const onClose = () => resolve();
    parser.once("close", onClose);
    parser.write(chunk, (error) => {
      parser.off("close", onClose);
      if (error) reject(error);
      else resolve();
    });
  });
}

/**
 * Buffers the input up to the end of the first line that is not blank (the header),
 * which the delimiter is chosen from.
 */
async function readFirstLine(chunks: AsyncGenerator<Buffer, void, undefined>, countBytes: (chunk: Buffer) => void) {
  const buffered: Buffer[] = [];
  let scanned = 0;
  while (true) {
    const next = await chunks.next();
    if (next.done) return { chunks: buffered, line: Buffer.concat(buffered).subarray(scanned) };
    countBytes(next.value);
    buffered.push(next.value);
    const all = Buffer.concat(buffered);
    for (let lineFeed = all.indexOf(0x0a, scanned); lineFeed !== -1; lineFeed = all.indexOf(0x0a, scanned)) {
      const line = all.subarray(scanned, lineFeed);
      if (!isBlankLine(line)) return { chunks: buffered, line };
      scanned = lineFeed + 1;
    }
  }
}

function isBlankLine(line: Buffer): boolean {
  return line.toString("utf8").replace(/^\uFEFF/, "").trim() === "";
}

/** ";" when the header line has more semicolons than commas outside quotes, else ",". */
export function detectDelimiter(headerLine: Uint8Array): CsvDelimiter {
  const text = Buffer.from(headerLine.buffer, headerLine.byteOffset, headerLine.byteLength).toString("utf8");
  let commas = 0;
  let semicolons = 0;
  let quoted = false;
  for (const character of text) {
    if (character === '"') quoted = !quoted;
    else if (!quoted && character === ",") commas += 1;
    else if (!quoted && character === ";") semicolons += 1;
  }
  return semicolons > commas ? ";" : ",";
}

function createParser(delimiter: CsvDelimiter): Parser {
  const parser = parse({
    delimiter,
    bom: true,
    // CRLF or LF only: a stray CR inside a value must not split a record, and line
    // numbers are counted by LF.
    record_delimiter: ["\r\n", "\n"],
    // Row length and blank lines are checked by HostsCsvRecords, with better messages.
    relax_column_count: true,
    skip_empty_lines: false,
    // A stray quote inside an unquoted value (5" disk) is kept as text.
    relax_quotes: true,
    // The one remaining failure (a quote never closed) is reported, not thrown.
    skip_records_with_error: true,
  });
  parser.on("error", () => {
    // Errors reach the reading loop through the async iterator; this listener only
    // keeps a late one (after reading stopped) from being an unhandled 'error' event.
  });
  return parser;
}
