import { createHash, randomUUID } from "node:crypto";
import type { EntityManager } from "@mikro-orm/postgresql";
import { RefreshTokenSchema } from "../../db/entities/refresh-token.entity";
import { SessionSchema } from "../../db/entities/session.entity";
import type { Config } from "../config";
import { DomainError } from "../errors";
import { hashOpaqueToken, newOpaqueToken } from "../auth/primitives/opaque-token";
import type { Role } from "../auth/roles";
import type { SessionUser } from "../auth/session-user";
import {
  ACCESS_TOKEN_TTL_SECONDS,
  REFRESH_REUSE_GRACE_MS,
  SESSION_TTL_SECONDS,
  tokenService,
} from "../auth/tokens";
import { type AuditRequestInfo, recordAuditEvent } from "./audit.service";

export type SessionTokens = {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires (refresh before then). */
  expiresAt: string;
  sessionId: string;
};

/** Starts a session (one refresh-token family) and issues its first tokens. */
export async function createSession(
  em: EntityManager,
  config: Config,
  user: { id: number; tokenVersion: number },
  request: AuditRequestInfo,
): Promise<SessionTokens> {
  const sessionId = randomUUID();
  const expiresAt = new Date(Date.now() + SESSION_TTL_SECONDS * 1000);
  em.create(SessionSchema, {
    id: sessionId,
    userId: user.id,
    expiresAt,
    ip: request.ip,
    userAgent: request.userAgent?.slice(0, 512) ?? null,
  });
  // Plain id columns (no ORM relation), so the unit of work cannot order these inserts.
  await em.flush();
  const refresh = newOpaqueToken("refresh");
  em.create(RefreshTokenSchema, { id: randomUUID(), sessionId, tokenHash: refresh.hash, expiresAt });
  await em.flush();
  const access = await tokenService(config.secret).signAccessToken(
    { userId: user.id, sessionId, tokenVersion: user.tokenVersion },
    ACCESS_TOKEN_TTL_SECONDS,
  );
  return { accessToken: access.token, refreshToken: refresh.token, expiresAt: access.expiresAt.toISOString(), sessionId };
}

type ActiveRow = {
  id: number;
  email: string;
  role: Role;
  mfa_enabled: boolean;
  disabled: boolean;
  token_version: number;
  revoked_at: Date | null;
  expires_at: Date;
};

/** The user behind a session, or null when the user or session is no longer valid. */
export async function loadSessionUser(
  em: EntityManager,
  userId: number,
  sessionId: string,
  tokenVersion: number | null,
): Promise<SessionUser | null> {
  const [row] = await em.execute<ActiveRow[]>(
    `select u.id, u.email, u.role, u.mfa_enabled, u.disabled, u.token_version, s.revoked_at, s.expires_at
       from users u join sessions s on s.user_id = u.id
      where u.id = ? and s.id = ?`,
    [userId, sessionId],
  );
  if (!row || row.disabled || row.revoked_at || new Date(row.expires_at) <= new Date()) return null;
  if (tokenVersion !== null && row.token_version !== tokenVersion) return null;
  return { id: row.id, email: row.email, role: row.role, mfaEnabled: row.mfa_enabled };
}

export type RotationResult =
  | { kind: "rotated"; tokens: SessionTokens; user: SessionUser }
  /** The token was just rotated by a parallel request: valid session, no new tokens. */
  | { kind: "raced"; sessionId: string; user: SessionUser };

/**
 * Exchanges a refresh token for new tokens. A token already rotated is reuse, and the
 * whole session (family) is revoked: a thief who rotated first loses the session when the
 * victim's client retries (RFC 9700 §4.14.2). Only the client that rotated it, within
 * REFRESH_REUSE_GRACE_MS, is told "raced" instead (two tabs, or a script's retry).
 */
export async function rotateRefreshToken(
  em: EntityManager,
  config: Config,
  refreshToken: string,
  request: AuditRequestInfo,
): Promise<RotationResult> {
  const invalid = () => new DomainError("UNAUTHORIZED", "Your session has ended. Sign in again.");
  const hash = hashOpaqueToken(refreshToken);
  type Outcome = RotationResult | { kind: "revoked" };
  return em.transactional(async (tx): Promise<Outcome> => {
    const [row] = await tx.execute<
      {
        id: string;
        session_id: string;
        rotated_at: Date | null;
        rotated_by: string | null;
        expires_at: Date;
        user_id: number;
        token_version: number;
      }[]
    >(
      `select r.id, r.session_id, r.rotated_at, r.rotated_by, r.expires_at, s.user_id, u.token_version
         from refresh_tokens r join sessions s on s.id = r.session_id join users u on u.id = s.user_id
        where r.token_hash = ? for update of r`,
      [hash],
    );
    if (!row || new Date(row.expires_at) <= new Date()) throw invalid();
    const user = await loadSessionUser(tx, row.user_id, row.session_id, null);
    if (!user) throw invalid();
    const client = clientFingerprint(request);
    if (row.rotated_at) {
      const sameClient = row.rotated_by === client;
      if (sameClient && Date.now() - new Date(row.rotated_at).getTime() < REFRESH_REUSE_GRACE_MS) {
        return { kind: "raced", sessionId: row.session_id, user };
      }
      await revokeSessionWhere(tx, "id = ?", [row.session_id], "refresh-token-reuse");
      await recordAuditEvent(tx, config.secret, {
        actor: { id: user.id, email: user.email },
        action: "REFRESH_TOKEN_REUSED",
        targetType: "session",
        targetId: row.session_id,
        outcome: "denied",
        after: { revoked: "session", sameClient },
        request,
      });
      return { kind: "revoked" };
    }
    await tx.execute("update refresh_tokens set rotated_at = now(), rotated_by = ? where id = ?", [client, row.id]);
    await tx.execute("update sessions set last_used_at = now() where id = ?", [row.session_id]);
    const next = newOpaqueToken("refresh");
    tx.create(RefreshTokenSchema, {
      id: randomUUID(),
      sessionId: row.session_id,
      tokenHash: next.hash,
      expiresAt: new Date(row.expires_at),
    });
    await tx.flush();
    await recordAuditEvent(tx, config.secret, {
      actor: { id: user.id, email: user.email },
      action: "SESSION_REFRESHED",
      targetType: "session",
      targetId: row.session_id,
      request,
    });
    const access = await tokenService(config.secret).signAccessToken(
      { userId: user.id, sessionId: row.session_id, tokenVersion: row.token_version },
      ACCESS_TOKEN_TTL_SECONDS,
    );
    return {
      kind: "rotated",
      user,
      tokens: {
        accessToken: access.token,
        refreshToken: next.token,
        expiresAt: access.expiresAt.toISOString(),
        sessionId: row.session_id,
      },
    };
  }).then((result) => {
    // The revocation must commit, so the refusal is thrown after the transaction.
    if (result.kind === "revoked") throw invalid();
    return result;
  });
}

/** Which client presents a refresh token: its address and user agent, hashed (not personal data at rest). */
function clientFingerprint(request: AuditRequestInfo): string {
  return createHash("sha256").update(`${request.ip ?? ""}\n${request.userAgent ?? ""}`).digest("hex");
}

export async function revokeSession(em: EntityManager, sessionId: string, reason: string): Promise<void> {
  await revokeSessionWhere(em, "id = ?", [sessionId], reason);
}

/** Ends every session of a user (password change, disable, role change). */
export async function revokeUserSessions(em: EntityManager, userId: number, reason: string): Promise<void> {
  await revokeSessionWhere(em, "user_id = ?", [userId], reason);
}

async function revokeSessionWhere(em: EntityManager, where: string, params: unknown[], reason: string) {
  await em.execute(
    `update sessions set revoked_at = now(), revoked_reason = ? where ${where} and revoked_at is null`,
    [reason, ...params],
  );
}
