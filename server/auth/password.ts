import argon2 from "argon2";

/**
 * Argon2id at OWASP's recommended minimum (m = 19 MiB, t = 2, p = 1): about 25 ms here,
 * slow enough for offline guessing to hurt, fast enough that login stays snappy and the
 * rate limiter (which runs first) decides how much hashing an attacker can buy.
 */
export const ARGON2_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export const MAX_PASSWORD_LENGTH = 1024;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/**
 * Unknown emails are verified against this hash so that a miss costs the same time as
 * a wrong password: response time must not reveal which accounts exist.
 */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword("opsdesk-timing-equaliser");
  return dummyHash;
}
