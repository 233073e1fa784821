/**
 * The first line of each hostname seen in a file, for duplicate detection in a CSV of up
 * to millions of rows. A Map<string, number> costs about 100 bytes per hostname as
 * JavaScript strings and entries, all of which every full garbage collection walks; this
 * keeps, per hostname, a 96-bit fingerprint, its length and its line in typed arrays
 * behind an open-addressing table: about 26 bytes per hostname whatever its length, none
 * of it scanned by the GC (ADR 014).
 *
 * Two different hostnames are taken for the same one only if their lengths and three
 * independent 32-bit hashes all agree: for a million distinct hostnames the chance that
 * any pair does is about 10^-17, far below that of the file being corrupted on its way
 * here. Storing the names themselves (to compare them exactly) cost 50 MB more at a
 * million rows, most of the import's memory.
 *
 * An import also keeps the hostnames already stored in one (lines unused), to look up
 * only the rows that may exist (knownHostnames).
 */
export class HostnameLines {
  private fingerprintA = new Uint32Array(INITIAL_ENTRIES);
  private fingerprintB = new Uint32Array(INITIAL_ENTRIES);
  private fingerprintC = new Uint32Array(INITIAL_ENTRIES);
  private lengths = new Uint16Array(INITIAL_ENTRIES);
  private lines = new Uint32Array(INITIAL_ENTRIES);
  private count = 0;
  /** Entry index + 1 per slot (0 = empty); size a power of two, at most half full. */
  private slots = new Uint32Array(INITIAL_ENTRIES * 2);

  get size(): number {
    return this.count;
  }

  /** The line `hostname` was first seen on; if it is new, records `line` and returns undefined. */
  firstLineOrAdd(hostname: string, line: number): number | undefined {
    const slot = this.slotOf(hostname);
    const entry = this.slots[slot]!;
    if (entry !== 0) return this.lines[entry - 1];
    this.slots[slot] = this.append(this.a, this.b, this.c, hostname.length, line) + 1;
    if (this.count * 2 > this.slots.length) this.rehash();
    return undefined;
  }

  /** Whether `hostname` was added (without adding it). */
  has(hostname: string): boolean {
    return this.slots[this.slotOf(hostname)] !== 0;
  }

  // The fingerprint of the name slotOf() last looked at (kept here, not returned in an
  // object, so a lookup allocates nothing).
  private a = 0;
  private b = 0;
  private c = 0;

  /** The slot holding `hostname`'s entry, else the empty slot where it would go. */
  private slotOf(hostname: string): number {
    // Three independent hashes in one pass over the name: FNV-1a, and two
    // MurmurHash3-style mixes from different seeds and constants, each finished with
    // Murmur's avalanche.
    let a = 0x811c9dc5;
    let b = 0x9747b28c;
    let c = 0x1b873593;
    for (let i = 0; i < hostname.length; i++) {
      const code = hostname.charCodeAt(i);
      a = Math.imul(a ^ code, 0x01000193);
      b = (Math.imul(rotl(b ^ Math.imul(code, 0xcc9e2d51), 13), 5) + 0xe6546b64) | 0;
      c = (Math.imul(rotl(c ^ Math.imul(code, 0x85ebca6b), 15), 9) + 0x2d71c3b1) | 0;
    }
    a >>>= 0;
    b = avalanche(b ^ hostname.length);
    c = avalanche(c ^ hostname.length);
    this.a = a;
    this.b = b;
    this.c = c;
    const mask = this.slots.length - 1;
    let slot = a & mask;
    for (let entry = this.slots[slot]!; entry !== 0; entry = this.slots[slot]!) {
      const e = entry - 1;
      if (this.fingerprintA[e] === a && this.fingerprintB[e] === b && this.fingerprintC[e] === c && this.lengths[e] === hostname.length) {
        return slot;
      }
      slot = (slot + 1) & mask;
    }
    return slot;
  }

  private append(a: number, b: number, c: number, length: number, line: number): number {
    if (this.count === this.lines.length) {
      const size = this.count * 2;
      this.fingerprintA = grow(this.fingerprintA, new Uint32Array(size));
      this.fingerprintB = grow(this.fingerprintB, new Uint32Array(size));
      this.fingerprintC = grow(this.fingerprintC, new Uint32Array(size));
      this.lengths = grow(this.lengths, new Uint16Array(size));
      this.lines = grow(this.lines, new Uint32Array(size));
    }
    const entry = this.count++;
    this.fingerprintA[entry] = a;
    this.fingerprintB[entry] = b;
    this.fingerprintC[entry] = c;
    this.lengths[entry] = length;
    this.lines[entry] = line;
    return entry;
  }

  private rehash(): void {
    const slots = new Uint32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let entry = 0; entry < this.count; entry++) {
      let slot = this.fingerprintA[entry]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = entry + 1;
    }
    this.slots = slots;
  }
}

const INITIAL_ENTRIES = 1 << 14;

function grow<T extends Uint32Array | Uint16Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function avalanche(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}
