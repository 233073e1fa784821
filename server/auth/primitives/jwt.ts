import { randomUUID } from "node:crypto";
import { errors, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { deriveKey } from "./derive-key";

/**
 * Two token kinds share one signing key, so each carries its kind twice: in the
 * `typ` header (checked by jose before the payload is trusted) and in a `typ`
 * claim (checked by our schema). Either check alone stops an MFA-pending token
 * from being replayed as an access token; both make a mistake in one harmless.
 */
const TOKEN_KINDS = {
  access: { header: "access+jwt", claim: "access" },
  mfa: { header: "mfa+jwt", claim: "mfa" },
} as const;

type TokenKind = keyof typeof TOKEN_KINDS;

// Pinned: never read the algorithm from the token itself (alg confusion, "none").
const ALGORITHM = "HS256";

export interface AccessTokenInput {
  userId: number;
  /** The refresh-token session this access token belongs to; null for sessionless logins. */
  sessionId: string | null;
  /** The user's token version at signing time; bumping it revokes every outstanding token. */
  tokenVersion: number;
}

export interface AccessTokenClaims extends AccessTokenInput {
  tokenId: string;
  expiresAt: Date;
}

export interface MfaTokenInput {
  userId: number;
}

export interface MfaTokenClaims extends MfaTokenInput {
  /** Unique per token, so callers can count attempts or burn it after use. */
  tokenId: string;
  expiresAt: Date;
}

export interface SignedToken {
  token: string;
  expiresAt: Date;
}

export interface TokenServiceOptions {
  secret: string;
  issuer?: string;
  audience?: string;
  /** Injected clock, for tests; defaults to the system clock. */
  now?: () => Date;
  /** How many verified access tokens to remember (default VERIFIED_CACHE_SIZE; 0 turns the cache off). */
  verifiedCacheSize?: number;
}

/**
 * A script or a page sends the same access token with every request for its 10 minutes,
 * and checking its HMAC through WebCrypto is an asynchronous job each time (~7 % of a
 * `hosts.list` call, ADR 025). Tokens that verified are remembered by their exact text,
 * signature included, so only a byte-identical token is a hit; its expiry is checked on
 * every hit with the same rule as jose's (`exp <= now` is expired). Revocation is
 * unaffected: the session and token version are still read from the database on every
 * request. Bounded: when full, the oldest entry goes (a Map iterates in insertion order).
 */
export const VERIFIED_CACHE_SIZE = 5000;

class VerifiedTokenCache<T extends { expiresAt: Date }> {
  private readonly entries = new Map<string, T>();
  constructor(private readonly capacity: number) {}

  get(token: string, nowMs: number): T | "expired" | undefined {
    const hit = this.entries.get(token);
    if (!hit) return undefined;
    if (Math.floor(nowMs / 1000) >= hit.expiresAt.getTime() / 1000) {
      this.entries.delete(token);
      return "expired";
    }
    return hit;
  }

  set(token: string, value: T, nowMs: number): void {
    if (this.capacity <= 0 || value.expiresAt.getTime() <= nowMs) return;
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(token, value);
  }
}

export interface TokenService {
  signAccessToken(input: AccessTokenInput, ttlSeconds: number): Promise<SignedToken>;
  verifyAccessToken(token: string): Promise<AccessTokenClaims>;
  signMfaToken(input: MfaTokenInput, ttlSeconds: number): Promise<SignedToken>;
  verifyMfaToken(token: string): Promise<MfaTokenClaims>;
}

/** Every rejection looks the same to the caller except for expiry, which clients act on (refresh). */
export class InvalidTokenError extends Error {
  override readonly name = "InvalidTokenError";
  constructor(
    readonly reason: "expired" | "invalid",
    options?: { cause?: unknown },
  ) {
    super(reason === "expired" ? "Token expired" : "Invalid token", options);
  }
}

// `sub` must be the canonical decimal form, so "007" or "1e3" cannot alias user 7 or 1000.
const userIdClaim = z
  .string()
  .regex(/^[1-9][0-9]{0,15}$/)
  .transform(Number)
  .refine(Number.isSafeInteger);

const commonClaims = {
  sub: userIdClaim,
  jti: z.string().min(1),
  exp: z.number().int(),
};

const accessPayload = z.object({
  ...commonClaims,
  typ: z.literal(TOKEN_KINDS.access.claim),
  sid: z.string().min(1).nullable(),
  tv: z.number().int().nonnegative(),
});

const mfaPayload = z.object({
  ...commonClaims,
  typ: z.literal(TOKEN_KINDS.mfa.claim),
});

export function createTokenService(options: TokenServiceOptions): TokenService {
  const keyBytes = deriveKey(options.secret, "jwt-signing");
  // Imported into WebCrypto once: given raw bytes, jose imports them again on every sign
  // and verify, an extra asynchronous WebCrypto call per authenticated request (ADR 025).
  let cryptoKey: Promise<CryptoKey> | undefined;
  const key = () =>
    (cryptoKey ??= crypto.subtle.importKey("raw", keyBytes as Uint8Array<ArrayBuffer>, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]));
  const issuer = options.issuer ?? "opsdesk";
  const audience = options.audience ?? "opsdesk";
  const now = options.now ?? (() => new Date());
  const verifiedAccess = new VerifiedTokenCache<AccessTokenClaims>(options.verifiedCacheSize ?? VERIFIED_CACHE_SIZE);

  async function sign(kind: TokenKind, userId: number, extraClaims: Record<string, unknown>, ttlSeconds: number): Promise<SignedToken> {
    assertUserId(userId);
    assertTtl(ttlSeconds);
    const issuedAt = Math.floor(now().getTime() / 1000);
    const expiresAtSeconds = issuedAt + ttlSeconds;
    const token = await new SignJWT({ ...extraClaims, typ: TOKEN_KINDS[kind].claim })
      .setProtectedHeader({ alg: ALGORITHM, typ: TOKEN_KINDS[kind].header })
      .setSubject(String(userId))
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAtSeconds)
      .setJti(randomUUID())
      .sign(await key());
    return { token, expiresAt: new Date(expiresAtSeconds * 1000) };
  }

  async function verifyPayload(kind: TokenKind, token: string): Promise<unknown> {
    try {
      const { payload } = await jwtVerify(token, await key(), {
        algorithms: [ALGORITHM],
        issuer,
        audience,
        typ: TOKEN_KINDS[kind].header,
        requiredClaims: ["iss", "aud", "exp", "sub", "jti"],
        currentDate: now(),
      });
      return payload;
    } catch (error) {
      const reason = error instanceof errors.JWTExpired ? "expired" : "invalid";
      throw new InvalidTokenError(reason, { cause: error });
    }
  }

  return {
    async signAccessToken(input, ttlSeconds) {
      if (!Number.isSafeInteger(input.tokenVersion) || input.tokenVersion < 0) {
        throw new RangeError("tokenVersion must be a non-negative integer.");
      }
      return sign("access", input.userId, { sid: input.sessionId, tv: input.tokenVersion }, ttlSeconds);
    },

    async verifyAccessToken(token) {
      const nowMs = now().getTime();
      const cached = verifiedAccess.get(token, nowMs);
      if (cached === "expired") throw new InvalidTokenError("expired");
      if (cached) return { ...cached };
      const parsed = accessPayload.safeParse(await verifyPayload("access", token));
      if (!parsed.success) throw new InvalidTokenError("invalid");
      const { sub, sid, tv, jti, exp } = parsed.data;
      const claims = { userId: sub, sessionId: sid, tokenVersion: tv, tokenId: jti, expiresAt: new Date(exp * 1000) };
      verifiedAccess.set(token, claims, nowMs);
      return { ...claims };
    },

    signMfaToken(input, ttlSeconds) {
      return sign("mfa", input.userId, {}, ttlSeconds);
    },

    async verifyMfaToken(token) {
      const parsed = mfaPayload.safeParse(await verifyPayload("mfa", token));
      if (!parsed.success) throw new InvalidTokenError("invalid");
      const { sub, jti, exp } = parsed.data;
      return { userId: sub, tokenId: jti, expiresAt: new Date(exp * 1000) };
    },
  };
}

function assertUserId(userId: number): void {
  if (!Number.isSafeInteger(userId) || userId < 1) {
    throw new RangeError("userId must be a positive integer.");
  }
}

function assertTtl(ttlSeconds: number): void {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1) {
    throw new RangeError("ttlSeconds must be a positive whole number of seconds.");
  }
}
