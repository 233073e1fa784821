/**
 * Writing strings as UTF-8 bytes in bulk writers (binary COPY rows, the audit chain's hash
 * input) without building an intermediate string. An import writes about two million
 * short values per 100,000 hosts: Buffer#write costs ~70 ns a call whatever the length,
 * and a string built by concatenation is first copied flat inside it.
 */

// Up to this many UTF-16 units, ASCII is copied by a loop here: about twice as fast as
// Buffer#write for a hostname or an IP address, and slower than it past ~100 characters.
const LOOP_MAX_UNITS = 64;

/**
 * Writes `text` as UTF-8 at `offset` and returns the bytes written. The caller has made
 * room for 3 bytes per UTF-16 unit (the most any unit takes; a surrogate pair takes 4).
 */
export function writeUtf8(target: Uint8Array, text: string, offset: number): number {
  const length = text.length;
  if (length > LOOP_MAX_UNITS) return (target as Buffer).write(text, offset, "utf8");
  for (let i = 0; i < length; i++) {
    const unit = text.charCodeAt(i);
    // Not ASCII: Buffer#write encodes the whole text again from the start.
    if (unit >= 0x80) return (target as Buffer).write(text, offset, "utf8");
    target[offset + i] = unit;
  }
  return length;
}

/**
 * A growing byte buffer written from the end: `position` bytes are kept, and growing it
 * keeps them. Text goes in with writeUtf8; `reserve` is for writers that fill bytes
 * themselves.
 */
export class Utf8Out {
  buffer: Buffer;
  position = 0;

  constructor(initialBytes: number) {
    this.buffer = Buffer.alloc(initialBytes);
  }

  /** Makes room for `bytes` more after `position`. */
  reserve(bytes: number): void {
    if (this.position + bytes <= this.buffer.length) return;
    const larger = Buffer.alloc(Math.max(this.buffer.length * 2, this.position + bytes));
    this.buffer.copy(larger, 0, 0, this.position);
    this.buffer = larger;
  }

  text(value: string): void {
    this.reserve(value.length * 3);
    this.position += writeUtf8(this.buffer, value, this.position);
  }

  bytes(value: Uint8Array): void {
    this.reserve(value.length);
    this.buffer.set(value, this.position);
    this.position += value.length;
  }

  /** The bytes from `start` to the current position (a view: valid until the next write). */
  since(start: number): Buffer {
    return this.buffer.subarray(start, this.position);
  }
}
