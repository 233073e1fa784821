import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { deriveKey } from "./derive-key";

/**
 * Sealed format: `v1.<iv>.<ciphertext>.<tag>`, each part base64url.
 * The version prefix lets a later key or cipher coexist with rows sealed today;
 * it is also bound into the authenticated data, so it cannot be swapped.
 */
const VERSION = "v1";
const CIPHER = "aes-256-gcm";
// 96-bit random IVs are GCM's native size; collisions stay negligible for the
// number of secrets an ops desk will ever seal under one key.
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SecretBox {
  /**
   * `context` (e.g. `totp:user:42`) is authenticated but not stored: a value
   * sealed for one row then fails to open when copied into another.
   */
  seal(plain: string, context?: string): string;
  /** Throws SecretBoxError when the value was tampered with, is malformed, or the context differs. */
  open(sealed: string, context?: string): string;
}

export class SecretBoxError extends Error {
  override readonly name = "SecretBoxError";
  constructor(options?: { cause?: unknown }) {
    super("Could not open sealed value", options);
  }
}

export function createSecretBox(secret: string): SecretBox {
  const key = deriveKey(secret, "secret-box");

  return {
    seal(plain, context = "") {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(CIPHER, key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(associatedData(context));
      const ciphertext = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return [VERSION, iv, ciphertext, cipher.getAuthTag()]
        .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
        .join(".");
    },

    open(sealed, context = "") {
      const parts = sealed.split(".");
      if (parts.length !== 4 || parts[0] !== VERSION) throw new SecretBoxError();
      const [iv, ciphertext, tag] = parts.slice(1).map(decodeStrictBase64url);
      if (!iv || iv.length !== IV_BYTES || !ciphertext || !tag || tag.length !== TAG_BYTES) {
        throw new SecretBoxError();
      }
      try {
        const decipher = createDecipheriv(CIPHER, key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(associatedData(context));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8");
      } catch (error) {
        throw new SecretBoxError({ cause: error });
      }
    },
  };
}

function associatedData(context: string): Buffer {
  return Buffer.from(`${VERSION}\0${context}`, "utf8");
}

// Node's decoder silently skips characters outside the alphabet; refuse them instead,
// so every sealed value has exactly one accepted spelling.
function decodeStrictBase64url(part: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) return null;
  const bytes = Buffer.from(part, "base64url");
  return bytes.toString("base64url") === part ? bytes : null;
}
