/**
 * The first line of each hostname seen in a file, for duplicate detection in a CSV of up
 * to millions of rows. A Map<string, number> costs about 100 bytes per hostname as
 * JavaScript strings and entries, all of which every full garbage collection walks; this
 * keeps the hostnames' bytes in one growing buffer and an open-addressing table in typed
 * arrays: about 60 bytes per hostname at 45 characters, none of it scanned by the GC.
 * Exact: hashes only pick the slot, the bytes are compared.
 *
 * Hostnames reaching it are checked ones (RFC 1123: ASCII letters, digits, "-", "."), so
 * one byte per character.
 */
export class HostnameLines {
  private bytes = Buffer.allocUnsafe(1 << 20);
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
    const start = this.offsets[entry]!;
    for (let i = 0; i < hostname.length; i++) {
      if (this.bytes[start + i] !== hostname.charCodeAt(i)) return false;
    }
    return true;
  }

  private append(hostname: string, line: number): number {
    if (this.used + hostname.length > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + hostname.length));
      this.bytes.copy(bigger, 0, 0, this.used);
      this.bytes = bigger;
    }
    if (this.count === this.offsets.length) {
      this.offsets = grow(this.offsets, new Uint32Array(this.count * 2));
      this.lengths = grow(this.lengths, new Uint16Array(this.count * 2));
      this.lines = grow(this.lines, new Uint32Array(this.count * 2));
    }
    const entry = this.count++;
    this.offsets[entry] = this.used;
    this.lengths[entry] = hostname.length;
    this.lines[entry] = line;
    this.used += this.bytes.write(hostname, this.used, "latin1");
    return entry;
  }

  private rehash(): void {
    const slots = new Uint32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let entry = 0; entry < this.count; entry++) {
      let slot = hashBytes(this.bytes, this.offsets[entry]!, this.lengths[entry]!) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = entry + 1;
    }
    this.slots = slots;
  }
}

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
