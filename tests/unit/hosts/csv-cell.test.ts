import { describe, expect, test } from "vitest";
import { csvLine, escapeCsvCell, unescapeFormulaGuard } from "../../../server/domain/csv/csv-cell";

describe("escapeCsvCell", () => {
  test("plain text is written as it is", () => {
    expect(escapeCsvCell("web01.example.com")).toBe("web01.example.com");
  });

  test("null and undefined become an empty cell", () => {
    expect(escapeCsvCell(null)).toBe("");
    expect(escapeCsvCell(undefined)).toBe("");
  });

  test.each([
    ["a,b", '"a,b"'],
    ["a;b", '"a;b"'],
    ['5" disk', '"5"" disk"'],
    ["line 1\nline 2", '"line 1\nline 2"'],
    ["line 1\r\nline 2", '"line 1\r\nline 2"'],
    ['"quoted"', '"""quoted"""'],
  ])("%j is quoted as %j", (value, expected) => {
    expect(escapeCsvCell(value)).toBe(expected);
  });

  test.each([
    ["=1+1", "'=1+1"],
    ["+1", "'+1"],
    ["-1", "'-1"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\tx", "'\tx"],
    ['=HYPERLINK("http://evil","x")', '"\'=HYPERLINK(""http://evil"",""x"")"'],
    ["=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"],
    ["\r=1", '"\'\r=1"'],
  ])("a cell that a spreadsheet would run as a formula, %j, is guarded as %j", (value, expected) => {
    expect(escapeCsvCell(value)).toBe(expected);
  });

  test("a formula character later in the text is left alone", () => {
    expect(escapeCsvCell("a=b")).toBe("a=b");
    expect(escapeCsvCell("web-01")).toBe("web-01");
  });

  test("numbers, booleans and bigints are written plainly, negative numbers included", () => {
    expect(escapeCsvCell(42)).toBe("42");
    expect(escapeCsvCell(-1.5)).toBe("-1.5");
    expect(escapeCsvCell(true)).toBe("true");
    expect(escapeCsvCell(10n)).toBe("10");
  });

  test("a date is written in ISO 8601", () => {
    expect(escapeCsvCell(new Date("2024-05-01T10:00:00Z"))).toBe("2024-05-01T10:00:00.000Z");
  });

  test("an object or array is written as quoted JSON", () => {
    expect(escapeCsvCell({ a: 1, b: "x" })).toBe('"{""a"":1,""b"":""x""}"');
    expect(escapeCsvCell(["a"])).toBe('"[""a""]"');
  });
});

describe("csvLine", () => {
  test("joins escaped cells with commas and ends with CRLF", () => {
    expect(csvLine(["web01", null, 22, "a;b", "=x"])).toBe("web01,,22,\"a;b\",'=x\r\n");
  });

  test("an empty list is an empty record", () => {
    expect(csvLine([])).toBe("\r\n");
  });
});

describe("unescapeFormulaGuard", () => {
  test("undoes the guard so an exported cell imports back unchanged", () => {
    for (const value of ["=1+1", "-x", "+1", "@a", "\tx"]) {
      expect(unescapeFormulaGuard(`'${value}`)).toBe(value);
    }
  });

  test("keeps an apostrophe that is not a guard", () => {
    expect(unescapeFormulaGuard("'quoted'")).toBe("'quoted'");
    expect(unescapeFormulaGuard("it's")).toBe("it's");
  });
});
