/** Input accepted by the CSV importers: a whole file or a stream of its bytes. */
export type CsvSource = AsyncIterable<Buffer | Uint8Array | string> | Buffer | string;

// Small enough that limits and progress are noticed promptly and a big in-memory
// Buffer is parsed piece by piece; large enough that per-chunk overhead is negligible.
const CHUNK_SIZE = 64 * 1024;

/** The source's bytes in chunks of at most 64 KiB (slices, not copies). */
export async function* byteChunks(source: CsvSource): AsyncGenerator<Buffer, void, undefined> {
  if (typeof source === "string" || Buffer.isBuffer(source)) {
    yield* slices(typeof source === "string" ? Buffer.from(source, "utf8") : source);
    return;
  }
  for await (const chunk of source) {
    yield* slices(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : toBuffer(chunk));
  }
}

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
