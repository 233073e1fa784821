import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { apiTokenPrefix, hashOpaqueToken, newOpaqueToken, tokenKind } from "../../../server/auth/primitives/opaque-token";

describe("API tokens", () => {
  it("look like odt_<8-char prefix>_<256-bit secret>", () => {
    const { token, prefix } = newOpaqueToken("api");
    expect(token).toMatch(/^odt_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
    expect(token.startsWith(`odt_${prefix}_`)).toBe(true);
    expect(Buffer.from(token.slice(13), "base64url")).toHaveLength(32);
  });

  it("expose their display prefix", () => {
    const { token, prefix } = newOpaqueToken("api");
    expect(apiTokenPrefix(token)).toBe(prefix);
    expect(apiTokenPrefix(newOpaqueToken("refresh").token)).toBeNull();
  });
});

describe("refresh tokens", () => {
  it("look like ort_<256-bit secret> and have no display prefix", () => {
    const { token, prefix } = newOpaqueToken("refresh");
    expect(token).toMatch(/^ort_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(4), "base64url")).toHaveLength(32);
    expect(prefix).toBeNull();
  });
});

describe("opaque tokens", () => {
  it("are never the same twice", () => {
    const tokens = new Set(Array.from({ length: 200 }, () => newOpaqueToken("refresh").token));
    expect(tokens.size).toBe(200);
  });

  it("come with the SHA-256 hex of the whole token, which is what gets stored", () => {
    const { token, hash } = newOpaqueToken("api");
    expect(hash).toBe(createHash("sha256").update(token).digest("hex"));
    expect(hashOpaqueToken(token)).toBe(hash);
    expect(hash).not.toContain(token.slice(13));
  });

  it("hash differently when a single character changes", () => {
    const { token, hash } = newOpaqueToken("refresh");
    const altered = token.slice(0, -1) + (token.endsWith("A") ? "B" : "A");
    expect(hashOpaqueToken(altered)).not.toBe(hash);
  });

  it("are told apart by kind", () => {
    expect(tokenKind(newOpaqueToken("api").token)).toBe("api");
    expect(tokenKind(newOpaqueToken("refresh").token)).toBe("refresh");
  });

  it.each([
    "",
    "odt_",
    "ort_short",
    "odt_ABCDEFGH_" + "a".repeat(43), // prefix must be lower-case hex
    "odt_0123abcd_" + "a".repeat(42),
    "ort_" + "a".repeat(44),
    " ort_" + "a".repeat(43),
    "eyJhbGciOiJIUzI1NiJ9.e30.sig",
  ])("have no kind when malformed (%j)", (token) => {
    expect(tokenKind(token)).toBeNull();
  });
});
