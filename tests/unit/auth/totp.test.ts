import { describe, expect, it } from "vitest";
import { currentTotpCode, newTotpSecret, totpUri, verifyTotp } from "../../../server/auth/primitives/totp";

const secret = newTotpSecret();
// 10 s into a step, so ±30 s lands squarely in the neighbouring steps.
const NOW = new Date("2025-01-01T00:00:10Z");
const STEP = Math.floor(NOW.getTime() / 1000 / 30);

function codeAtStepOffset(offset: number): string {
  return currentTotpCode(secret, new Date(NOW.getTime() + offset * 30_000));
}

function verifyAtNow(code: string, lastAcceptedStep: number | null = null) {
  return verifyTotp({ secret, code, lastAcceptedStep, now: NOW });
}

describe("TOTP secrets and URIs", () => {
  it("creates distinct 160-bit Base32 secrets", () => {
    const another = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(another).not.toBe(secret);
  });

  it("builds an otpauth URI naming the issuer and account", () => {
    const uri = totpUri({ secret, account: "ops@example.com", issuer: "OpsDesk" });
    const parsed = new URL(uri);
    expect(parsed.protocol).toBe("otpauth:");
    expect(parsed.host).toBe("totp");
    expect(decodeURIComponent(parsed.pathname)).toBe("/OpsDesk:ops@example.com");
    expect(parsed.searchParams.get("secret")).toBe(secret);
    expect(parsed.searchParams.get("issuer")).toBe("OpsDesk");
  });
});

describe("verifying a TOTP code", () => {
  it("accepts the current code and reports its step", () => {
    expect(verifyAtNow(codeAtStepOffset(0))).toEqual({ ok: true, step: STEP });
  });

  it("accepts the code from one step either side, for clock drift", () => {
    expect(verifyAtNow(codeAtStepOffset(-1))).toEqual({ ok: true, step: STEP - 1 });
    expect(verifyAtNow(codeAtStepOffset(1))).toEqual({ ok: true, step: STEP + 1 });
  });

  it("refuses a code two steps away", () => {
    const window = new Set([-1, 0, 1].map(codeAtStepOffset));
    for (const offset of [-2, 2]) {
      const code = codeAtStepOffset(offset);
      if (window.has(code)) continue; // a one-in-a-million collision with a valid code
      expect(verifyAtNow(code)).toEqual({ ok: false, reason: "invalid" });
    }
  });

  it("ignores spaces, as apps display codes in groups", () => {
    const code = codeAtStepOffset(0);
    expect(verifyAtNow(` ${code.slice(0, 3)} ${code.slice(3)} `)).toEqual({ ok: true, step: STEP });
  });

  it("refuses a wrong code", () => {
    const window = new Set([-1, 0, 1].map(codeAtStepOffset));
    let wrong = "000000";
    while (window.has(wrong)) wrong = String(Number(wrong) + 1).padStart(6, "0");
    expect(verifyAtNow(wrong)).toEqual({ ok: false, reason: "invalid" });
  });

  it.each(["", "12345", "1234567", "12a456", "12-456", "１２３４５６", "+12345"])("refuses %j, which is not six digits", (code) => {
    expect(verifyAtNow(code)).toEqual({ ok: false, reason: "invalid" });
  });

  it("refuses the same code a second time as a replay", () => {
    const code = codeAtStepOffset(0);
    const first = verifyAtNow(code);
    expect(first).toEqual({ ok: true, step: STEP });
    expect(verifyAtNow(code, STEP)).toEqual({ ok: false, reason: "replayed" });
  });

  it("refuses an older code once a newer one was accepted", () => {
    expect(verifyAtNow(codeAtStepOffset(-1), STEP)).toEqual({ ok: false, reason: "replayed" });
  });

  it("accepts a newer code than the last one accepted", () => {
    expect(verifyAtNow(codeAtStepOffset(0), STEP - 1)).toEqual({ ok: true, step: STEP });
    expect(verifyAtNow(codeAtStepOffset(1), STEP)).toEqual({ ok: true, step: STEP + 1 });
  });

  it("treats every code as used when the last accepted step is ahead of the window", () => {
    expect(verifyAtNow(codeAtStepOffset(0), STEP + 5)).toEqual({ ok: false, reason: "replayed" });
    expect(verifyAtNow(codeAtStepOffset(1), STEP + 1)).toEqual({ ok: false, reason: "replayed" });
  });

  it("still calls a wrong code invalid, not replayed, when a step was accepted before", () => {
    const window = new Set([-1, 0, 1].map(codeAtStepOffset));
    let wrong = "999999";
    while (window.has(wrong)) wrong = String(Number(wrong) - 1).padStart(6, "0");
    expect(verifyAtNow(wrong, STEP)).toEqual({ ok: false, reason: "invalid" });
  });

  it("refuses a negative or fractional last accepted step as a programming error", () => {
    expect(() => verifyAtNow(codeAtStepOffset(0), -1)).toThrow(RangeError);
    expect(() => verifyAtNow(codeAtStepOffset(0), 1.5)).toThrow(RangeError);
  });

  it("uses the system clock when no time is given", () => {
    const result = verifyTotp({ secret, code: currentTotpCode(secret), lastAcceptedStep: null });
    expect(result.ok).toBe(true);
  });
});
