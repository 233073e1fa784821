import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * CSRF protection for requests authenticated by cookie: a token tied to the session
 * (HMAC of its id, so nothing to store) plus an Origin check. Bearer requests are exempt:
 * a browser never attaches our bearer tokens on its own.
 */
export function csrfTokenFor(secret: string, sessionId: string): string {
  return createHmac("sha256", secret).update(`csrf:${sessionId}`).digest("base64url");
}

export function csrfTokenMatches(expected: string | null, submitted: unknown): boolean {
  if (!expected || typeof submitted !== "string" || submitted.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(submitted));
}

/**
 * The request comes from our own pages: its Origin (or, without one, its Referer or
 * Sec-Fetch-Site) names this origin. Non-browser clients that send none pass; they cannot
 * ride on a victim's cookies anyway, and the token is still required.
 */
export function sameOrigin(request: Request): boolean {
  const own = new URL(request.url).origin;
  const origin = request.headers.get("origin");
  if (origin) return origin === own;
  const fetchSite = request.headers.get("sec-fetch-site");
  if (fetchSite) return fetchSite === "same-origin" || fetchSite === "none";
  const referer = request.headers.get("referer");
  if (referer) {
    try {
      return new URL(referer).origin === own;
    } catch {
      return false;
    }
  }
  return true;
}

export const CSRF_HEADER = "x-csrf-token";
export const CSRF_FIELD = "_csrf";
