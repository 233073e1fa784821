/**
 * The first line of each hostname seen in a file, for duplicate detection in a CSV of up
 * to millions of rows. A Map<string, number> costs about 100 bytes per hostname as
 * JavaScript strings and entries, all of which every full garbage collection walks; this
 * keeps the hostnames' bytes in fixed-size blocks (added as needed, never copied, so
 * growing never holds two copies) and an open-addressing table in typed arrays: about 60
 * bytes per hostname at 45 characters, none of it scanned by the GC.
 * Exact: hashes only pick the slot, the bytes are compared.
 *
 * Hostnames reaching it are checked ones (RFC 1123: ASCII letters, digits, "-", "."), so
 * one byte per character.
 */
export class HostnameLines {
  /** Hostname bytes; an entry's offset is block index × BLOCK_BYTES + position in it. */
  private readonly blocks: Buffer[] = [Buffer.allocUnsafe(BLOCK_BYTES)];
  /** Bytes used in the last block. */
  private used = 0;
  private offsets = new Uint32Array(1 << 14);
  private lengths = new Uint16Array(1 << 14);
  private lines = new Uint32Array(1 << 14);
  private count = 0;
  /** Entry index + 1 per slot (0 = empty); size a power of two, at most half full. */
  private slots = new Uint32Array(1 << 15);

  get size(): number {
    return this.count;
  }

  /** The line `hostname` was first seen on; if it is new, records `line` and returns undefined. */
  firstLineOrAdd(hostname: string, line: number): number | undefined {
    const mask = this.slots.length - 1;
    let slot = hash(hostname) & mask;
    for (let entry = this.slots[slot]!; entry !== 0; entry = this.slots[slot]!) {
      if (this.matches(entry - 1, hostname)) return this.lines[entry - 1];
      slot = (slot + 1) & mask;
    }
    this.slots[slot] = this.append(hostname, line) + 1;
    if (this.count * 2 > this.slots.length) this.rehash();
    return undefined;
  }

  private matches(entry: number, hostname: string): boolean {
    if (this.lengths[entry] !== hostname.length) return false;
    const offset = this.offsets[entry]!;
    const block = this.blocks[offset >>> BLOCK_BITS]!;
    const start = offset & (BLOCK_BYTES - 1);
    for (let i = 0; i < hostname.length; i++) {
      if (block[start + i] !== hostname.charCodeAt(i)) return false;
    }
    return true;
  }

  private append(hostname: string, line: number): number {
    // A hostname never spans two blocks (it is at most 253 bytes, far less than one).
    if (this.used + hostname.length > BLOCK_BYTES) {
      this.blocks.push(Buffer.allocUnsafe(BLOCK_BYTES));
      this.used = 0;
    }
    if (this.count === this.offsets.length) {
      this.offsets = grow(this.offsets, new Uint32Array(this.count * 2));
      this.lengths = grow(this.lengths, new Uint16Array(this.count * 2));
      this.lines = grow(this.lines, new Uint32Array(this.count * 2));
    }
    const entry = this.count++;
    this.offsets[entry] = (this.blocks.length - 1) * BLOCK_BYTES + this.used;
    this.lengths[entry] = hostname.length;
    this.lines[entry] = line;
    this.used += this.blocks[this.blocks.length - 1]!.write(hostname, this.used, "latin1");
    return entry;
  }

  private rehash(): void {
    const slots = new Uint32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let entry = 0; entry < this.count; entry++) {
      const offset = this.offsets[entry]!;
      let slot = hashBytes(this.blocks[offset >>> BLOCK_BITS]!, offset & (BLOCK_BYTES - 1), this.lengths[entry]!) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = entry + 1;
    }
    this.slots = slots;
  }
}

// 1 MiB blocks: at most one partly used block is allocated ahead; offsets stay 32-bit
// up to 4 GiB of hostnames.
const BLOCK_BITS = 20;
const BLOCK_BYTES = 1 << BLOCK_BITS;

function grow<T extends Uint32Array | Uint16Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

// FNV-1a, 32 bits, over the characters (or the same bytes in the buffer).
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function hashBytes(bytes: Buffer, start: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < start + length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}
