import { describe, expect, test } from "vitest";
import { Utf8LineScanner } from "../../../server/domain/csv/utf8-scanner";

function scan(...chunks: number[][]): Array<{ line: number; byte: number }> {
  const scanner = new Utf8LineScanner();
  for (const chunk of chunks) scanner.push(Uint8Array.from(chunk));
  scanner.end();
  return scanner.takeUpTo(Number.POSITIVE_INFINITY);
}

const bytes = (text: string) => [...Buffer.from(text, "utf8")];
const LF = 0x0a;

describe("Utf8LineScanner", () => {
  test("valid UTF-8 of every length raises nothing, split anywhere", () => {
    const text = bytes("a é ☃ 😀\nb\n");
    expect(scan(text)).toEqual([]);
    for (let cut = 1; cut < text.length; cut++) {
      expect(scan(text.slice(0, cut), text.slice(cut))).toEqual([]);
    }
  });

  test("a Latin-1 byte is reported with its line", () => {
    expect(scan([...bytes("ok\ncaf"), 0xe9, LF, ...bytes("ok\n")])).toEqual([{ line: 2, byte: 0xe9 }]);
  });

  test("a line feed right after a broken sequence still counts as a new line", () => {
    expect(scan([0xe2, 0x98, LF, 0xff, LF])).toEqual([
      { line: 1, byte: 0xe2 },
      { line: 2, byte: 0xff },
    ]);
  });

  test("each line is reported once, with its first bad byte", () => {
    expect(scan([0xe9, 0x41, 0xfc, LF])).toEqual([{ line: 1, byte: 0xe9 }]);
  });

  test.each([
    ["an overlong encoding", [0xc0, 0xaf]],
    ["an overlong three-byte encoding", [0xe0, 0x80, 0xaf]],
    ["a UTF-16 surrogate", [0xed, 0xa0, 0x80]],
    ["a code point above U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
    ["a lone continuation byte", [0x80]],
    ["a byte that never occurs in UTF-8", [0xfe]],
  ])("%s is invalid", (_, sequence) => {
    expect(scan(sequence)).toHaveLength(1);
  });

  test("a sequence cut off by the end of the input is reported at end()", () => {
    const scanner = new Utf8LineScanner();
    scanner.push(Uint8Array.from([0x61, LF, 0xf0, 0x9f]));
    expect(scanner.takeUpTo(10)).toEqual([]);
    scanner.end();
    expect(scanner.takeUpTo(10)).toEqual([{ line: 2, byte: 0xf0 }]);
  });

  test("takeUpTo hands out problems line by line, each only once", () => {
    const scanner = new Utf8LineScanner();
    scanner.push(Uint8Array.from([0xe9, LF, LF, 0xe9, LF]));
    expect(scanner.takeUpTo(2)).toEqual([{ line: 1, byte: 0xe9 }]);
    expect(scanner.takeUpTo(2)).toEqual([]);
    expect(scanner.takeUpTo(3)).toEqual([{ line: 3, byte: 0xe9 }]);
  });
});
