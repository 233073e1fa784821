import { hkdfSync } from "node:crypto";

/**
 * Every use of OPSDESK_SECRET gets its own HKDF label, so a key can never be
 * reused across purposes: a JWT signing key is not an encryption key, and
 * leaking a derived key (say, the recovery-code pepper) reveals nothing about
 * the others. Bump a label's version to rotate that one key alone.
 */
const KEY_LABELS = {
  "jwt-signing": "opsdesk/jwt-signing/v1",
  "secret-box": "opsdesk/secret-box/v1",
  "recovery-code-pepper": "opsdesk/recovery-code-pepper/v1",
  "device-token": "opsdesk/device-token/v1",
} as const;

export type KeyPurpose = keyof typeof KEY_LABELS;

/** Below this the secret is guessable offline from any signed token. */
export const MIN_SECRET_LENGTH = 32;

// A fixed salt is fine here: the input is already a high-entropy secret, and the
// label (HKDF "info") is what keeps the outputs apart (RFC 5869 §3.1).
const SALT = "opsdesk-hkdf-salt";

const KEY_BYTES = 32;

export function deriveKey(secret: string, purpose: KeyPurpose): Uint8Array {
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new RangeError(`The secret must be at least ${MIN_SECRET_LENGTH} characters long.`);
  }
  return new Uint8Array(hkdfSync("sha256", secret, SALT, KEY_LABELS[purpose], KEY_BYTES));
}

/** The pepper for hashRecoveryCode, as a string so it can be passed around like one. */
export function deriveRecoveryCodePepper(secret: string): string {
  return Buffer.from(deriveKey(secret, "recovery-code-pepper")).toString("base64url");
}
