import { describe, expect, it } from "vitest";
import {
  findRecoveryCode,
  generateRecoveryCodes,
  hashRecoveryCode,
  normaliseRecoveryCode,
} from "../../../server/auth/primitives/recovery-codes";

const PEPPER = "test-pepper";
const CODE_SHAPE = /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/;

describe("generating recovery codes", () => {
  it("makes ten readable codes by default", () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    for (const code of codes) expect(code).toMatch(CODE_SHAPE);
  });

  it("makes the number asked for, all different", () => {
    const codes = generateRecoveryCodes(50);
    expect(new Set(codes).size).toBe(50);
  });

  it("never uses the look-alike letters i, l, o or u", () => {
    const all = generateRecoveryCodes(100).join("");
    expect(all).not.toMatch(/[ilou]/);
  });

  it("spreads symbols over the whole 32-character alphabet", () => {
    const symbols = new Set(generateRecoveryCodes(100).join("").replace(/-/g, ""));
    expect(symbols.size).toBe(32);
  });

  it("refuses a count outside 1 to 100", () => {
    expect(() => generateRecoveryCodes(0)).toThrow(RangeError);
    expect(() => generateRecoveryCodes(101)).toThrow(RangeError);
    expect(() => generateRecoveryCodes(2.5)).toThrow(RangeError);
  });
});

describe("hashing and finding recovery codes", () => {
  const codes = generateRecoveryCodes(5);
  const hashes = codes.map((code) => hashRecoveryCode(code, PEPPER));

  it("stores a hex HMAC that does not contain the code", () => {
    expect(hashes[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(hashes[0]).not.toContain(normaliseRecoveryCode(codes[0]));
  });

  it("finds the index of a code typed exactly as shown", () => {
    expect(findRecoveryCode(codes[3], hashes, PEPPER)).toBe(3);
  });

  it("finds a code typed in capitals, without dashes, or with spaces", () => {
    const code = codes[1];
    expect(findRecoveryCode(code.toUpperCase(), hashes, PEPPER)).toBe(1);
    expect(findRecoveryCode(code.replace(/-/g, ""), hashes, PEPPER)).toBe(1);
    expect(findRecoveryCode(` ${code.replace(/-/g, " ")} `, hashes, PEPPER)).toBe(1);
  });

  it("finds a code typed with o for 0 or l for 1", () => {
    const hash = hashRecoveryCode("k7m0-q9xp-41dw", PEPPER);
    expect(findRecoveryCode("K7MO-Q9XP-4LDW", [hash], PEPPER)).toBe(0);
  });

  it("returns -1 for a code that is not in the list", () => {
    const stranger = generateRecoveryCodes(1)[0];
    expect(findRecoveryCode(stranger, hashes, PEPPER)).toBe(-1);
  });

  it("returns -1 when the pepper differs", () => {
    expect(findRecoveryCode(codes[0], hashes, "another-pepper")).toBe(-1);
  });

  it.each(["", "k7m2", "k7m2-q9xp-4tdw-aaaa", "k7m2-q9xp-4td!", "' OR 1=1 --"])("returns -1 for malformed input %j", (input) => {
    expect(findRecoveryCode(input, hashes, PEPPER)).toBe(-1);
  });

  it("returns -1 for an empty list and skips malformed stored hashes", () => {
    expect(findRecoveryCode(codes[0], [], PEPPER)).toBe(-1);
    expect(findRecoveryCode(codes[0], ["", "zz", hashes[0]], PEPPER)).toBe(2);
  });

  it("hashes the same code the same way however it is typed", () => {
    expect(hashRecoveryCode("K7M2 Q9XP 4TDW", PEPPER)).toBe(hashRecoveryCode("k7m2-q9xp-4tdw", PEPPER));
  });

  it("refuses an empty pepper", () => {
    expect(() => hashRecoveryCode(codes[0], "")).toThrow(RangeError);
  });
});
