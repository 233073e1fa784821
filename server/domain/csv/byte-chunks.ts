/** Input accepted by the CSV importers: a whole file or a stream of its bytes. */
export type CsvSource = AsyncIterable<Buffer | Uint8Array | string> | Buffer | string;

// Small enough that limits and progress are noticed promptly and a big in-memory
// Buffer is parsed piece by piece; large enough that per-chunk overhead is negligible.
const CHUNK_SIZE = 64 * 1024;

/**
 * The source's bytes in chunks of at most 64 KiB: slices of a Buffer, not copies; a
 * string encoded piece by piece, never as a whole second copy of the file.
 */
export async function* byteChunks(source: CsvSource): AsyncGenerator<Buffer, void, undefined> {
  if (typeof source === "string") {
    yield* stringChunks(source);
    return;
  }
  if (Buffer.isBuffer(source)) {
    yield* slices(source);
    return;
  }
  for await (const chunk of source) {
    if (typeof chunk === "string") yield* stringChunks(chunk);
    else yield* slices(toBuffer(chunk));
  }
}

/** UTF-8 of a string, encoded in pieces of at most CHUNK_SIZE bytes. */
export function* stringChunks(text: string): Generator<Buffer> {
  // A UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair, two units, is 4).
  const unitsPerChunk = Math.floor(CHUNK_SIZE / 3);
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + unitsPerChunk, text.length);
    // Never split a surrogate pair: each half alone would be encoded as U+FFFD.
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
    yield Buffer.from(text.slice(start, end), "utf8");
    start = end;
  }
}

const isHighSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;

/** Byte length of a source known up front (a string or Buffer), else null. */
export function knownSize(source: CsvSource): number | null {
  if (typeof source === "string") return Buffer.byteLength(source, "utf8");
  return Buffer.isBuffer(source) ? source.length : null;
}

function* slices(buffer: Buffer): Generator<Buffer> {
  for (let start = 0; start < buffer.length; start += CHUNK_SIZE) {
    yield buffer.subarray(start, start + CHUNK_SIZE);
  }
}

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
