import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Crockford's Base32 alphabet, lower-cased: 32 symbols (so 5 random bits map to
 * one symbol with no modulo bias) and no i, l, o or u, so nothing on a printed
 * sheet can be misread. Typed look-alikes are folded back when normalising.
 */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const GROUPS = 3;
const GROUP_LENGTH = 4;
const CODE_LENGTH = GROUPS * GROUP_LENGTH; // 12 symbols × 5 bits = 60 bits
const CODE_PATTERN = new RegExp(`^[${ALPHABET}]{${CODE_LENGTH}}$`);

export const DEFAULT_RECOVERY_CODE_COUNT = 10;

/** Codes such as `k7m2-q9xp-4tdw`; show them once, store only hashRecoveryCode output. */
export function generateRecoveryCodes(count: number = DEFAULT_RECOVERY_CODE_COUNT): string[] {
  if (!Number.isSafeInteger(count) || count < 1 || count > 100) {
    throw new RangeError("count must be a whole number between 1 and 100.");
  }
  const codes = new Set<string>();
  while (codes.size < count) codes.add(randomCode());
  return [...codes];
}

/**
 * HMAC rather than a slow password hash: each code carries 60 random bits, far
 * beyond offline guessing, and the pepper (kept outside the database) means a
 * leaked table alone cannot even be checked against guesses.
 */
export function hashRecoveryCode(code: string, pepper: string): string {
  if (pepper.length === 0) throw new RangeError("A recovery-code pepper is required.");
  return createHmac("sha256", pepper).update(normaliseRecoveryCode(code), "utf8").digest("hex");
}

/**
 * Index of the stored hash that `input` matches, or -1. Every hash is compared
 * in constant time and the loop never exits early, so timing does not reveal
 * which slot (or whether any) matched.
 */
export function findRecoveryCode(input: string, hashes: readonly string[], pepper: string): number {
  if (!CODE_PATTERN.test(normaliseRecoveryCode(input))) return -1;
  const candidate = Buffer.from(hashRecoveryCode(input, pepper), "hex");
  let found = -1;
  hashes.forEach((hash, index) => {
    const stored = Buffer.from(hash, "hex");
    if (stored.length === candidate.length && timingSafeEqual(stored, candidate) && found === -1) {
      found = index;
    }
  });
  return found;
}

/** Lower-case, drop dashes and whitespace, and fold Crockford look-alikes (o→0, i/l→1). */
export function normaliseRecoveryCode(code: string): string {
  return code
    .toLowerCase()
    .replace(/[\s-]/g, "")
    .replace(/o/g, "0")
    .replace(/[il]/g, "1");
}

function randomCode(): string {
  // One byte per symbol, keeping its low 5 bits: 256 is a multiple of 32, so uniform.
  const symbols = [...randomBytes(CODE_LENGTH)].map((byte) => ALPHABET[byte & 0x1f]);
  const groups: string[] = [];
  for (let start = 0; start < CODE_LENGTH; start += GROUP_LENGTH) {
    groups.push(symbols.slice(start, start + GROUP_LENGTH).join(""));
  }
  return groups.join("-");
}
