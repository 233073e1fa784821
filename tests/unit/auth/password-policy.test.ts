import { describe, expect, it } from "vitest";
import { loginPasswordSchema, passwordSchema } from "../../../server/auth/primitives/password-policy";

function firstMessage(result: { success: boolean; error?: { issues: { message: string }[] } }): string | undefined {
  return result.error?.issues[0]?.message;
}

describe("new passwords", () => {
  it("accepts 12 characters", () => {
    expect(passwordSchema.safeParse("abcdefghijkl").success).toBe(true);
  });

  it("refuses 11 characters with a message saying the minimum", () => {
    const result = passwordSchema.safeParse("abcdefghijk");
    expect(result.success).toBe(false);
    expect(firstMessage(result)).toBe("Password must be at least 12 characters.");
  });

  it("accepts 1024 characters and refuses 1025 with a clear message", () => {
    expect(passwordSchema.safeParse("a".repeat(1024)).success).toBe(true);
    const result = passwordSchema.safeParse("a".repeat(1025));
    expect(result.success).toBe(false);
    expect(firstMessage(result)).toBe("Password must be at most 1024 characters.");
  });

  it("is kept exactly as typed: surrounding spaces are not trimmed", () => {
    const typed = "  correct horse battery  ";
    expect(passwordSchema.parse(typed)).toBe(typed);
  });

  it("is not Unicode-normalised", () => {
    const decomposed = "cafe\u0301-passphrase"; // é as e + combining accent
    expect(passwordSchema.parse(decomposed)).toBe(decomposed);
    expect(passwordSchema.parse(decomposed)).not.toBe(decomposed.normalize("NFC"));
  });

  it("counts an emoji as one character, as the user sees it", () => {
    // Eleven code points but twelve UTF-16 units: still too short.
    expect(passwordSchema.safeParse("🔐abcdefghij").success).toBe(false);
    expect(passwordSchema.safeParse("🔐".repeat(12)).success).toBe(true);
    expect(passwordSchema.safeParse("🔐".repeat(1024)).success).toBe(true);
  });

  it("counts twelve spaces as a valid password, because rules beyond length are not imposed", () => {
    expect(passwordSchema.safeParse(" ".repeat(12)).success).toBe(true);
  });

  it("refuses anything that is not a string", () => {
    expect(passwordSchema.safeParse(123456789012).success).toBe(false);
    expect(passwordSchema.safeParse(undefined).success).toBe(false);
  });
});

describe("login passwords", () => {
  it("accept any non-empty password exactly as typed", () => {
    expect(loginPasswordSchema.parse(" x ")).toBe(" x ");
  });

  it("refuse an empty password", () => {
    const result = loginPasswordSchema.safeParse("");
    expect(result.success).toBe(false);
    expect(firstMessage(result)).toBe("Password is required.");
  });

  it("refuse more than 1024 characters", () => {
    expect(loginPasswordSchema.safeParse("a".repeat(1024)).success).toBe(true);
    const result = loginPasswordSchema.safeParse("a".repeat(1025));
    expect(result.success).toBe(false);
    expect(firstMessage(result)).toBe("Password must be at most 1024 characters.");
  });
});
