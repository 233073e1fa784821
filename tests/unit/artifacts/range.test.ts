import { describe, expect, it } from "vitest";
import { contentRange, parseRangeHeader, unsatisfiedContentRange } from "../../../server/domain/artifacts/range";

describe("parseRangeHeader", () => {
  it.each([
    ["bytes=0-99", { kind: "partial", start: 0, end: 99 }],
    ["bytes=100-", { kind: "partial", start: 100, end: 999 }],
    ["bytes=-500", { kind: "partial", start: 500, end: 999 }],
    ["bytes=-1", { kind: "partial", start: 999, end: 999 }],
    ["bytes=999-999", { kind: "partial", start: 999, end: 999 }],
    ["bytes=0-", { kind: "partial", start: 0, end: 999 }],
    ["BYTES=10-19", { kind: "partial", start: 10, end: 19 }],
    [" bytes = 10 - 19 ", { kind: "partial", start: 10, end: 19 }],
  ])("reads %j on a 1000-byte file", (header, expected) => {
    expect(parseRangeHeader(header, 1000)).toEqual(expected);
  });

  it("clamps a range past the end to the last byte", () => {
    expect(parseRangeHeader("bytes=900-5000", 1000)).toEqual({ kind: "partial", start: 900, end: 999 });
    expect(parseRangeHeader("bytes=0-99999999999999999999", 1000)).toEqual({ kind: "partial", start: 0, end: 999 });
  });

  it("serves the whole file for a suffix longer than the file", () => {
    expect(parseRangeHeader("bytes=-5000", 1000)).toEqual({ kind: "partial", start: 0, end: 999 });
  });

  it.each(["bytes=1000-", "bytes=1000-2000", "bytes=5000-6000", "bytes=99999999999999999999-", "bytes=-0"])(
    "calls %j on a 1000-byte file unsatisfiable",
    (header) => {
      expect(parseRangeHeader(header, 1000)).toEqual({ kind: "unsatisfiable" });
    },
  );

  it.each([
    [undefined],
    [""],
    ["bytes="],
    ["bytes=-"],
    ["bytes=abc-def"],
    ["bytes=5-1"],
    ["bytes=0-1,5-9"],
    ["bytes=0-1, 5-9"],
    ["items=0-9"],
    ["bytes=1.5-2"],
    ["bytes=+1-2"],
    ["0-99"],
  ])("ignores %j and serves the full file", (header) => {
    expect(parseRangeHeader(header, 1000)).toEqual({ kind: "full" });
  });

  it.each(["bytes=0-99", "bytes=0-", "bytes=-500"])("serves an empty file whole for %j", (header) => {
    expect(parseRangeHeader(header, 0)).toEqual({ kind: "full" });
  });

  it("serves the whole file when the size itself is not a valid length", () => {
    expect(parseRangeHeader("bytes=0-1", -1)).toEqual({ kind: "full" });
    expect(parseRangeHeader("bytes=0-1", Number.NaN)).toEqual({ kind: "full" });
  });

  it("handles a one-byte file", () => {
    expect(parseRangeHeader("bytes=0-0", 1)).toEqual({ kind: "partial", start: 0, end: 0 });
    expect(parseRangeHeader("bytes=-10", 1)).toEqual({ kind: "partial", start: 0, end: 0 });
    expect(parseRangeHeader("bytes=1-", 1)).toEqual({ kind: "unsatisfiable" });
  });
});

describe("Content-Range values", () => {
  it("describes a partial answer and an unsatisfiable one", () => {
    expect(contentRange({ start: 0, end: 99 }, 1000)).toBe("bytes 0-99/1000");
    expect(unsatisfiedContentRange(1000)).toBe("bytes */1000");
  });
});
