/*
 * A single-range parser for artifact downloads (RFC 9110 §14). Anything we do not serve —
 * malformed values, other units, several ranges — yields "full": a server may always ignore
 * Range and answer 200 with the whole file, which is simpler and safer than multipart/byteranges.
 */

export type ByteRange =
  | { kind: "full" }
  /** Inclusive byte positions, as in Content-Range. */
  | { kind: "partial"; start: number; end: number }
  | { kind: "unsatisfiable" };

const SINGLE_RANGE = /^bytes[ \t]*=[ \t]*(\d*)[ \t]*-[ \t]*(\d*)$/i;

export function parseRangeHeader(header: string | undefined, size: number): ByteRange {
  if (header === undefined || !Number.isSafeInteger(size) || size < 0) return { kind: "full" };
  const match = SINGLE_RANGE.exec(header.trim());
  if (!match) return { kind: "full" };
  const [, first = "", last = ""] = match;
  // An empty file has no byte to point at, and "bytes 0--1/0" cannot be written: send it whole.
  if (size === 0) return { kind: "full" };

  if (first === "") {
    if (last === "") return { kind: "full" }; // "bytes=-"
    const suffix = Number(last);
    // A zero-length suffix selects nothing (RFC 9110 §14.1.3).
    if (suffix === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(0, size - suffix), end: size - 1 };
  }

  const start = Number(first);
  if (last !== "" && Number(last) < start) return { kind: "full" }; // invalid: last before first
  if (start >= size) return { kind: "unsatisfiable" };
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: "partial", start, end };
}

/** Content-Range for a 206: "bytes 0-99/1000". */
export function contentRange(range: { start: number; end: number }, size: number): string {
  return `bytes ${range.start}-${range.end}/${size}`;
}

/** Content-Range for a 416: "bytes *\/1000", telling the client the real size. */
export function unsatisfiedContentRange(size: number): string {
  return `bytes */${size}`;
}
