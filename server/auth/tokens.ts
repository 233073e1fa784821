import { createTokenService, type TokenService } from "./primitives/jwt";
import { createSecretBox, type SecretBox } from "./primitives/secret-box";
import { deriveRecoveryCodePepper } from "./primitives/derive-key";

/**
 * Lifetimes. Access tokens are short because they are checked without a database write;
 * every request still loads the user and session, so logout, password change, disabling
 * and role changes take effect at once, and 10 minutes is only the ceiling.
 */
export const ACCESS_TOKEN_TTL_SECONDS = 10 * 60;
export const SESSION_TTL_SECONDS = 14 * 24 * 3600;
export const MFA_TOKEN_TTL_SECONDS = 5 * 60;
/**
 * A rotated refresh token presented again by the SAME client (address and user agent)
 * within this window is two tabs or two calls of one script racing; anything else is
 * reuse, and revokes the session (RFC 9700 §4.14.2, ADR 019).
 */
export const REFRESH_REUSE_GRACE_MS = 2_000;

const cache = new Map<string, { tokens: TokenService; box: SecretBox; pepper: string }>();

function keysFor(secret: string) {
  let keys = cache.get(secret);
  if (!keys) {
    keys = {
      tokens: createTokenService({ secret }),
      box: createSecretBox(secret),
      pepper: deriveRecoveryCodePepper(secret),
    };
    cache.set(secret, keys);
  }
  return keys;
}

export const tokenService = (secret: string) => keysFor(secret).tokens;
export const secretBox = (secret: string) => keysFor(secret).box;
export const recoveryPepper = (secret: string) => keysFor(secret).pepper;
