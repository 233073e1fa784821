import { createHmac, randomBytes } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import { deriveKey } from "./primitives/derive-key";

/**
 * Device tokens (OWASP "Slow Down Online Guessing Attacks with Device Cookies", ADR 019):
 * a browser or script that signed in successfully carries a token naming the account it
 * signed in to and a random nonce. Presented with a later sign-in to the same account,
 * it exempts that attempt from the account-wide limit, so strangers spraying the account
 * cannot lock its owner out. Signed with a key of its own (HKDF label), HS256 pinned.
 */
export const DEVICE_TOKEN_TTL_SECONDS = 365 * 24 * 3600;
const ALGORITHM = "HS256";
const TYPE = "device+jwt";
const ISSUER = "opsdesk";

export type DeviceClaims = { userId: number; nonce: string };

const keys = new Map<string, Uint8Array>();
function keyFor(secret: string): Uint8Array {
  let key = keys.get(secret);
  if (!key) {
    key = deriveKey(secret, "device-token");
    keys.set(secret, key);
  }
  return key;
}

/** The account a token is bound to: a keyed hash of the sign-in email, not the email itself. */
function accountHash(secret: string, email: string): string {
  return createHmac("sha256", keyFor(secret)).update(email.trim().toLowerCase()).digest("base64url");
}

export async function issueDeviceToken(secret: string, user: { id: number; email: string }): Promise<string> {
  return new SignJWT({ acct: accountHash(secret, user.email), uid: user.id })
    .setProtectedHeader({ alg: ALGORITHM, typ: TYPE })
    .setIssuer(ISSUER)
    .setAudience(ISSUER)
    .setJti(randomBytes(16).toString("base64url"))
    .setIssuedAt()
    .setExpirationTime(`${DEVICE_TOKEN_TTL_SECONDS}s`)
    .sign(keyFor(secret));
}

/** The token's claims when it is valid, unexpired and bound to this email; null otherwise. */
export async function verifyDeviceToken(secret: string, token: string | undefined | null, email: string): Promise<DeviceClaims | null> {
  if (!token || token.length > 2048) return null;
  try {
    const { payload, protectedHeader } = await jwtVerify(token, keyFor(secret), {
      algorithms: [ALGORITHM],
      issuer: ISSUER,
      audience: ISSUER,
      typ: TYPE,
    });
    if (protectedHeader.typ !== TYPE || payload.acct !== accountHash(secret, email)) return null;
    if (typeof payload.uid !== "number" || typeof payload.jti !== "string") return null;
    return { userId: payload.uid, nonce: payload.jti };
  } catch {
    return null;
  }
}
