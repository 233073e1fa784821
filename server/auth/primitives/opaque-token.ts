import { createHash, randomBytes } from "node:crypto";

/**
 * Opaque bearer tokens: random strings the server stores only as a hash.
 * The `odt_` / `ort_` prefixes make leaked tokens easy to recognise (secret
 * scanners, logs) and impossible to confuse with one another.
 *
 *   API token:     odt_<8 hex chars, shown in lists>_<43 base64url chars>
 *   Refresh token: ort_<43 base64url chars>
 */
export type OpaqueTokenKind = "refresh" | "api";

const SECRET_BYTES = 32; // 256 bits
const API_PREFIX_BYTES = 4; // 8 hex chars: enough to tell a user's tokens apart, not to find one

const API_TOKEN_PATTERN = /^odt_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;
const REFRESH_TOKEN_PATTERN = /^ort_([A-Za-z0-9_-]{43})$/;

export interface NewApiToken {
  token: string;
  /** Not secret: stored in clear and displayed so a user can recognise the token. */
  prefix: string;
  hash: string;
}

export interface NewRefreshToken {
  token: string;
  /** Refresh tokens are never listed to users, so they have no display prefix. */
  prefix: null;
  hash: string;
}

export function newOpaqueToken(kind: "api"): NewApiToken;
export function newOpaqueToken(kind: "refresh"): NewRefreshToken;
export function newOpaqueToken(kind: OpaqueTokenKind): NewApiToken | NewRefreshToken;
export function newOpaqueToken(kind: OpaqueTokenKind): NewApiToken | NewRefreshToken {
  const secret = randomBytes(SECRET_BYTES).toString("base64url");
  if (kind === "api") {
    const prefix = randomBytes(API_PREFIX_BYTES).toString("hex");
    const token = `odt_${prefix}_${secret}`;
    return { token, prefix, hash: hashOpaqueToken(token) };
  }
  const token = `ort_${secret}`;
  return { token, prefix: null, hash: hashOpaqueToken(token) };
}

/**
 * Plain SHA-256, deliberately not Argon2: slow hashes exist to make guessing
 * low-entropy passwords expensive, but a 256-bit random token cannot be guessed
 * at any speed. A fast, deterministic hash also lets the database find the row
 * by an indexed equality lookup on every request.
 */
export function hashOpaqueToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Which kind of opaque token this is, or null when it has neither shape. */
export function tokenKind(token: string): OpaqueTokenKind | null {
  if (API_TOKEN_PATTERN.test(token)) return "api";
  if (REFRESH_TOKEN_PATTERN.test(token)) return "refresh";
  return null;
}

/** The display prefix of an API token, or null for anything else. */
export function apiTokenPrefix(token: string): string | null {
  return API_TOKEN_PATTERN.exec(token)?.[1] ?? null;
}
