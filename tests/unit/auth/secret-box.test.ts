import { describe, expect, it } from "vitest";
import { createSecretBox, SecretBoxError } from "../../../server/auth/primitives/secret-box";

const SECRET = "test-secret-that-is-long-enough-0123456789";
const box = createSecretBox(SECRET);

/** Flip one bit in the decoded bytes of part `index` of a sealed value. */
function flipBit(sealed: string, index: number): string {
  const parts = sealed.split(".");
  const bytes = Buffer.from(parts[index], "base64url");
  bytes[0] ^= 0x01;
  parts[index] = bytes.toString("base64url");
  return parts.join(".");
}

describe("secret box", () => {
  it("opens what it sealed, including non-ASCII and empty text", () => {
    for (const plain of ["JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "pässwörd 🔐", ""]) {
      expect(box.open(box.seal(plain))).toBe(plain);
    }
  });

  it("produces a versioned, dot-separated string that does not contain the plaintext", () => {
    const sealed = box.seal("JBSWY3DPEHPK3PXP");
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{22}$/);
    expect(sealed).not.toContain("JBSWY3DPEHPK3PXP");
  });

  it("uses a fresh IV every time, so equal plaintexts seal differently", () => {
    expect(box.seal("same")).not.toBe(box.seal("same"));
  });

  it.each([
    ["IV", 1],
    ["ciphertext", 2],
    ["tag", 3],
  ])("refuses a value whose %s was tampered with", (_part, index) => {
    const tampered = flipBit(box.seal("some secret"), index);
    expect(() => box.open(tampered)).toThrow(SecretBoxError);
  });

  it("refuses a value sealed with a different secret", () => {
    const other = createSecretBox("another-secret-that-is-long-enough-987654");
    expect(() => box.open(other.seal("some secret"))).toThrow(SecretBoxError);
  });

  it("refuses an unknown version", () => {
    const sealed = box.seal("some secret");
    expect(() => box.open(sealed.replace(/^v1\./, "v2."))).toThrow(SecretBoxError);
  });

  it.each(["", "v1", "v1...", "v1.a.b.c", "v1.!!!.b.c.d", "not a sealed value"])("refuses malformed input %j", (input) => {
    expect(() => box.open(input)).toThrow(SecretBoxError);
  });

  it("refuses a value with non-base64url characters slipped in", () => {
    const [version, iv, ciphertext, tag] = box.seal("some secret").split(".");
    expect(() => box.open([version, iv, `${ciphertext}!`, tag].join("."))).toThrow(SecretBoxError);
  });

  it("binds a value to its context, so it cannot be moved to another row", () => {
    const sealed = box.seal("totp secret", "totp:user:1");
    expect(box.open(sealed, "totp:user:1")).toBe("totp secret");
    expect(() => box.open(sealed, "totp:user:2")).toThrow(SecretBoxError);
    expect(() => box.open(sealed)).toThrow(SecretBoxError);
  });

  it("does not leak the plaintext or key in its error", () => {
    const sealed = flipBit(box.seal("super secret value"), 2);
    const error = (() => {
      try {
        box.open(sealed);
      } catch (caught) {
        return caught;
      }
    })();
    expect(String(error)).not.toContain("super secret value");
    expect(String(error)).not.toContain(SECRET);
  });

  it("refuses a secret too short to be a real key", () => {
    expect(() => createSecretBox("short")).toThrow(RangeError);
  });
});
