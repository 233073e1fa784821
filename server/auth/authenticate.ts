import type { EntityManager } from "@mikro-orm/postgresql";
import type { Config } from "../config";
import { isDatabaseUnavailable } from "../errors";
import { userForApiToken } from "../services/api-tokens.service";
import type { AuditRequestInfo } from "../services/audit.service";
import { loadSessionUser, rotateRefreshToken } from "../services/sessions.service";
import { appendCookies, clearedSessionCookies, readCookie, sessionCookies } from "./cookies";
import { csrfTokenFor } from "./csrf";
import { tokenKind } from "./primitives/opaque-token";
import type { AuthMethod, SessionUser } from "./session-user";
import { tokenService } from "./tokens";

export type Identity = {
  user: SessionUser | null;
  authMethod: AuthMethod;
  /** The session behind the request (cookie or Bearer access token). */
  sessionId: string | null;
  /** For cookie sessions: the token forms and the tRPC client must send back. */
  csrfToken: string | null;
};

const ANONYMOUS: Identity = { user: null, authMethod: "none", sessionId: null, csrfToken: null };

/**
 * Who made the request. Scripts send `Authorization: Bearer` with an API token or an
 * access JWT; browsers send cookies, and an expired access cookie is refreshed here
 * transparently (new cookies go out on `resHeaders`).
 */
export async function authenticate(
  request: Request,
  em: EntityManager,
  config: Config,
  resHeaders?: Headers,
  requestInfo: AuditRequestInfo = { ip: null, userAgent: null, requestId: null },
): Promise<Identity> {
  const authorization = request.headers.get("authorization");
  if (authorization) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) return ANONYMOUS;
    const token = match[1]!;
    if (tokenKind(token) === "api") {
      const user = await userForApiToken(em, token);
      return user ? { user, authMethod: "bearer-api-token", sessionId: null, csrfToken: null } : ANONYMOUS;
    }
    const fromJwt = await userFromAccessToken(em, config, token);
    return fromJwt ? { ...fromJwt, authMethod: "bearer-access", csrfToken: null } : ANONYMOUS;
  }

  const accessCookie = readCookie(request, "access");
  if (accessCookie) {
    const fromJwt = await userFromAccessToken(em, config, accessCookie);
    if (fromJwt) return cookieIdentity(config, fromJwt.user, fromJwt.sessionId);
  }
  const refreshCookie = readCookie(request, "refresh");
  if (!refreshCookie) return ANONYMOUS;
  try {
    const rotated = await rotateRefreshToken(em.fork(), config, refreshCookie, requestInfo);
    if (rotated.kind === "rotated") {
      if (resHeaders) appendCookies(resHeaders, sessionCookies(rotated.tokens, request));
      return cookieIdentity(config, rotated.user, rotated.tokens.sessionId);
    }
    return cookieIdentity(config, rotated.user, rotated.sessionId);
  } catch (error) {
    // An unreachable database says nothing about the session: keep the cookies (ADR 017).
    if (isDatabaseUnavailable(error)) throw error;
    if (resHeaders) appendCookies(resHeaders, clearedSessionCookies(request));
    return ANONYMOUS;
  }
}

function cookieIdentity(config: Config, user: SessionUser, sessionId: string): Identity {
  return { user, authMethod: "cookie", sessionId, csrfToken: csrfTokenFor(config.secret, sessionId) };
}

async function userFromAccessToken(
  em: EntityManager,
  config: Config,
  token: string,
): Promise<{ user: SessionUser; sessionId: string } | null> {
  const claims = await tokenService(config.secret)
    .verifyAccessToken(token)
    .catch(() => null);
  if (!claims?.sessionId) return null;
  // Database errors propagate: "cannot check" is not "signed out" (ADR 017).
  const user = await loadSessionUser(em, claims.userId, claims.sessionId, claims.tokenVersion);
  return user ? { user, sessionId: claims.sessionId } : null;
}
