import { isUtf8 } from "node:buffer";

/** A line holding bytes that are not UTF-8, with the first offending byte. */
export type InvalidUtf8 = { line: number; byte: number };

const LF = 0x0a;

/**
 * Checks a byte stream for invalid UTF-8 while it passes through, remembering the
 * physical line (1-based, counted by LF) of each problem. Decoders replace bad bytes
 * with U+FFFD silently; checking the raw bytes is the only way to tell a person which
 * line of their (usually Latin-1 or Windows-1252) file to fix.
 * One entry per line; sequences split across chunks are handled.
 */
export class Utf8LineScanner {
  private line = 1;
  // State of a multi-byte sequence in progress (WHATWG/RFC 3629 rules: no overlongs,
  // no surrogates, nothing above U+10FFFF).
  private needed = 0;
  private lower = 0x80;
  private upper = 0xbf;
  private sequenceLine = 1;
  private sequenceLead = 0;
  private lastReportedLine = 0;
  private found: InvalidUtf8[] = [];

  push(chunk: Uint8Array): void {
    // Fast path: valid chunks (nearly all of them) only need their line breaks counted.
    if (this.needed === 0 && isUtf8(chunk)) {
      this.line += countLineFeeds(chunk);
      return;
    }
    for (let i = 0; i < chunk.length; i++) this.scanByte(chunk[i]);
  }

  /** Call once after the last chunk: a sequence cut off by the end of input is invalid. */
  end(): void {
    if (this.needed > 0) this.report(this.sequenceLine, this.sequenceLead);
    this.needed = 0;
  }

  /** Removes and returns the problems found on lines up to and including `line`. */
  takeUpTo(line: number): InvalidUtf8[] {
    if (this.found.length === 0 || this.found[0].line > line) return [];
    const index = this.found.findIndex((entry) => entry.line > line);
    const taken = index === -1 ? this.found : this.found.slice(0, index);
    this.found = index === -1 ? [] : this.found.slice(index);
    return taken;
  }

  private scanByte(byte: number): void {
    if (this.needed > 0) {
      if (byte >= this.lower && byte <= this.upper) {
        this.needed -= 1;
        this.lower = 0x80;
        this.upper = 0xbf;
        return;
      }
      // The sequence is broken; the byte that broke it starts afresh (it may be a
      // line feed, which must still be counted).
      this.report(this.sequenceLine, this.sequenceLead);
      this.needed = 0;
      this.lower = 0x80;
      this.upper = 0xbf;
    }
    if (byte < 0x80) {
      if (byte === LF) this.line += 1;
      return;
    }
    this.sequenceLine = this.line;
    this.sequenceLead = byte;
    if (byte >= 0xc2 && byte <= 0xdf) this.needed = 1;
    else if (byte === 0xe0) this.expect(2, 0xa0, 0xbf);
    else if (byte === 0xed) this.expect(2, 0x80, 0x9f);
    else if (byte >= 0xe1 && byte <= 0xef) this.expect(2, 0x80, 0xbf);
    else if (byte === 0xf0) this.expect(3, 0x90, 0xbf);
    else if (byte >= 0xf1 && byte <= 0xf3) this.expect(3, 0x80, 0xbf);
    else if (byte === 0xf4) this.expect(3, 0x80, 0x8f);
    else this.report(this.line, byte);
  }

  private expect(needed: number, lower: number, upper: number): void {
    this.needed = needed;
    this.lower = lower;
    this.upper = upper;
  }

  private report(line: number, byte: number): void {
    if (line === this.lastReportedLine) return;
    this.lastReportedLine = line;
    this.found.push({ line, byte });
  }
}

function countLineFeeds(chunk: Uint8Array): number {
  let count = 0;
  let index = chunk.indexOf(LF);
  while (index !== -1) {
    count += 1;
    index = chunk.indexOf(LF, index + 1);
  }
  return count;
}
