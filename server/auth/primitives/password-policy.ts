import { z } from "zod";

/**
 * Passwords are taken exactly as typed: no trimming, no Unicode normalisation,
 * no composition rules (NIST SP 800-63B). Lengths count Unicode code points, so
 * an emoji is one character, as the user sees it, not two UTF-16 units.
 */
export const PASSWORD_MIN_LENGTH = 12;
// A cap keeps a multi-megabyte "password" from tying up the hasher; 1024 is far
// beyond any passphrase or password-manager output.
export const PASSWORD_MAX_LENGTH = 1024;

function codePointLength(value: string): number {
  let length = 0;
  for (const _ of value) length++;
  return length;
}

const tooLongMessage = `Password must be at most ${PASSWORD_MAX_LENGTH} characters.`;

/** For choosing a new password (setup, change, reset). */
export const passwordSchema = z
  .string({ error: "Password is required." })
  .refine((value) => codePointLength(value) >= PASSWORD_MIN_LENGTH, {
    error: `Password must be at least ${PASSWORD_MIN_LENGTH} characters.`,
  })
  .refine((value) => codePointLength(value) <= PASSWORD_MAX_LENGTH, { error: tooLongMessage });

/**
 * For signing in: any non-empty password up to the cap, so accounts created
 * under an older, looser policy can still log in and then be asked to change.
 */
export const loginPasswordSchema = z
  .string({ error: "Password is required." })
  .min(1, { error: "Password is required." })
  .refine((value) => codePointLength(value) <= PASSWORD_MAX_LENGTH, { error: tooLongMessage });
