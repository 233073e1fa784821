import { describe, expect, test } from "vitest";
import { Utf8Out, writeUtf8 } from "../../server/services/utf8-out";

describe("writeUtf8", () => {
  // Short and long, ASCII and not, with the first non-ASCII unit early and late: the
  // short-ASCII loop must hand over to Buffer#write without leaving its own bytes behind.
  const samples = ["", "a", "web-01.example.com", "x".repeat(64), "x".repeat(65), "é", "abcé", `${"a".repeat(63)}€`, `${"a".repeat(70)}😀`, "😀 lone \ud800"];
  for (const text of samples) {
    test(`writes the bytes Buffer.from gives for ${JSON.stringify(text.slice(0, 12))} (${text.length} units)`, () => {
      const target = Buffer.alloc(3 * text.length + 8, 0xaa);
      const written = writeUtf8(target, text, 5);
      expect(written).toBe(Buffer.byteLength(text, "utf8"));
      expect(target.subarray(5, 5 + written)).toEqual(Buffer.from(text, "utf8"));
      expect(target.subarray(0, 5)).toEqual(Buffer.alloc(5, 0xaa));
    });
  }
});

describe("Utf8Out", () => {
  test("keeps what was written when it grows", () => {
    const out = new Utf8Out(4);
    const pieces = ["héllo ", "x".repeat(100), " wörld", "😀"];
    for (const piece of pieces) out.text(piece);
    out.bytes(Buffer.from([0x21]));
    expect(out.since(0).toString("utf8")).toBe(`${pieces.join("")}!`);
    expect(out.since(Buffer.byteLength(pieces[0]!)).toString("utf8")).toBe(`${pieces.slice(1).join("")}!`);
  });
});
