import type { SessionTokens } from "../services/sessions.service";
import { DEVICE_TOKEN_TTL_SECONDS } from "./device-token";
import { ACCESS_TOKEN_TTL_SECONDS, MFA_TOKEN_TTL_SECONDS, SESSION_TTL_SECONDS } from "./tokens";

/**
 * Session cookies: HttpOnly, SameSite=Lax, Path=/. Over HTTPS they are Secure and carry
 * the `__Host-` prefix (no Domain, Path=/, Secure enforced by the browser).
 */
const NAMES = { access: "opsdesk_at", refresh: "opsdesk_rt", mfa: "opsdesk_mfa", device: "opsdesk_dt" } as const;
type CookieKind = keyof typeof NAMES;

export function isSecureRequest(request: Request): boolean {
  return new URL(request.url).protocol === "https:";
}

export function cookieName(kind: CookieKind, secure: boolean): string {
  return secure ? `__Host-${NAMES[kind]}` : NAMES[kind];
}

function serialise(name: string, value: string, maxAgeSeconds: number, secure: boolean): string {
  const parts = [`${name}=${value}`, "Path=/", "HttpOnly", "SameSite=Lax", `Max-Age=${maxAgeSeconds}`];
  if (secure) parts.push("Secure");
  return parts.join("; ");
}

export function readCookie(request: Request, kind: CookieKind): string | null {
  const header = request.headers.get("cookie");
  if (!header) return null;
  const wanted = [cookieName(kind, true), cookieName(kind, false)];
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (wanted.includes(name)) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

export function sessionCookies(tokens: Pick<SessionTokens, "accessToken" | "refreshToken">, request: Request): string[] {
  const secure = isSecureRequest(request);
  return [
    serialise(cookieName("access", secure), tokens.accessToken, ACCESS_TOKEN_TTL_SECONDS, secure),
    serialise(cookieName("refresh", secure), tokens.refreshToken, SESSION_TTL_SECONDS, secure),
    serialise(cookieName("mfa", secure), "", 0, secure),
  ];
}

export function mfaPendingCookie(mfaToken: string, request: Request): string {
  const secure = isSecureRequest(request);
  return serialise(cookieName("mfa", secure), mfaToken, MFA_TOKEN_TTL_SECONDS, secure);
}

/** The device token (ADR 019): outlives sessions, and signing out leaves it in place. */
export function deviceCookie(deviceToken: string, request: Request): string {
  const secure = isSecureRequest(request);
  return serialise(cookieName("device", secure), deviceToken, DEVICE_TOKEN_TTL_SECONDS, secure);
}

export function clearedSessionCookies(request: Request): string[] {
  const secure = isSecureRequest(request);
  return (["access", "refresh", "mfa"] as const).map((kind) => serialise(cookieName(kind, secure), "", 0, secure));
}

export function appendCookies(headers: Headers, cookies: string[]): void {
  for (const cookie of cookies) headers.append("Set-Cookie", cookie);
}
