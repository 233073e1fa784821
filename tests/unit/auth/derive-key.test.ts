import { describe, expect, it } from "vitest";
import { deriveKey, deriveRecoveryCodePepper } from "../../../server/auth/primitives/derive-key";

const SECRET = "test-secret-that-is-long-enough-0123456789";

describe("key derivation", () => {
  it("gives each purpose its own 256-bit key", () => {
    const jwt = Buffer.from(deriveKey(SECRET, "jwt-signing"));
    const box = Buffer.from(deriveKey(SECRET, "secret-box"));
    const pepper = Buffer.from(deriveKey(SECRET, "recovery-code-pepper"));
    expect(jwt).toHaveLength(32);
    expect(new Set([jwt.toString("hex"), box.toString("hex"), pepper.toString("hex")]).size).toBe(3);
  });

  it("is deterministic, so every app instance derives the same keys", () => {
    expect(deriveKey(SECRET, "secret-box")).toEqual(deriveKey(SECRET, "secret-box"));
    expect(deriveRecoveryCodePepper(SECRET)).toBe(deriveRecoveryCodePepper(SECRET));
  });

  it("never returns the secret itself", () => {
    expect(Buffer.from(deriveKey(SECRET, "jwt-signing")).toString()).not.toContain(SECRET);
    expect(deriveRecoveryCodePepper(SECRET)).not.toContain(SECRET);
  });

  it("refuses a secret shorter than 32 characters", () => {
    expect(() => deriveKey("x".repeat(31), "jwt-signing")).toThrow(RangeError);
    expect(() => deriveKey("x".repeat(32), "jwt-signing")).not.toThrow();
  });
});
