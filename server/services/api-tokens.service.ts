import { randomUUID } from "node:crypto";
import type { EntityManager } from "@mikro-orm/postgresql";
import { ApiTokenSchema } from "../../db/entities/api-token.entity";
import type { Config } from "../config";
import { DomainError } from "../errors";
import { hashOpaqueToken, newOpaqueToken } from "../auth/primitives/opaque-token";
import type { SessionUser } from "../auth/session-user";
import { type AuditActor, type AuditRequestInfo, recordAuditEvent } from "./audit.service";
import { consumeRateLimit, POLICIES } from "./rate-limit.service";

export type ApiTokenView = {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
};

function view(t: {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt?: Date | null;
  revokedAt?: Date | null;
}): ApiTokenView {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    createdAt: t.createdAt.toISOString(),
    expiresAt: t.expiresAt.toISOString(),
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    revokedAt: t.revokedAt?.toISOString() ?? null,
  };
}

/** Creates a token; the secret is returned once and only its hash is kept. */
export async function createApiToken(
  em: EntityManager,
  config: Config,
  actor: SessionUser,
  input: { name: string; expiresInDays: number },
  request: AuditRequestInfo,
): Promise<{ id: string; token: string; prefix: string; expiresAt: string }> {
  await consumeRateLimit(em.fork(), POLICIES.tokenCreate, String(actor.id));
  const fresh = newOpaqueToken("api");
  const id = randomUUID();
  const expiresAt = new Date(Date.now() + input.expiresInDays * 86_400_000);
  await em.transactional(async (tx) => {
    tx.create(ApiTokenSchema, {
      id,
      userId: actor.id,
      name: input.name,
      prefix: fresh.prefix,
      tokenHash: fresh.hash,
      expiresAt,
    });
    await tx.flush();
    await recordAuditEvent(tx, config.secret, {
      actor,
      action: "API_TOKEN_CREATED",
      targetType: "api_token",
      targetId: id,
      after: { name: input.name, prefix: fresh.prefix, expiresAt: expiresAt.toISOString() },
      request,
    });
  });
  return { id, token: fresh.token, prefix: fresh.prefix, expiresAt: expiresAt.toISOString() };
}

export async function listApiTokens(
  em: EntityManager,
  userId: number,
  page: { cursor?: string; limit: number },
): Promise<{ items: ApiTokenView[]; nextCursor: string | null }> {
  const rows = await em.find(
    ApiTokenSchema,
    page.cursor ? { userId, id: { $lt: page.cursor } } : { userId },
    { orderBy: { id: "desc" }, limit: page.limit + 1 },
  );
  const items = rows.slice(0, page.limit).map(view);
  return { items, nextCursor: rows.length > page.limit ? items[items.length - 1]!.id : null };
}

export async function revokeApiToken(
  em: EntityManager,
  config: Config,
  actor: AuditActor & { id: number },
  tokenId: string,
  request: AuditRequestInfo,
): Promise<ApiTokenView> {
  return em.transactional(async (tx) => {
    const token = await tx.findOne(ApiTokenSchema, { id: tokenId, userId: actor.id });
    if (!token) throw new DomainError("NOT_FOUND", "No such token among yours.");
    if (!token.revokedAt) {
      token.revokedAt = new Date();
      await tx.flush();
      await recordAuditEvent(tx, config.secret, {
        actor,
        action: "API_TOKEN_REVOKED",
        targetType: "api_token",
        targetId: token.id,
        before: { name: token.name, prefix: token.prefix, revoked: false },
        after: { revoked: true },
        request,
      });
    }
    return view(token);
  });
}

/** The owner of a valid API token, as they are now (current role, not disabled). */
export async function userForApiToken(em: EntityManager, token: string): Promise<SessionUser | null> {
  const [row] = await em.execute<
    { token_id: string; last_used_at: Date | null; id: number; email: string; role: SessionUser["role"]; mfa_enabled: boolean }[]
  >(
    `select t.id as token_id, t.last_used_at, u.id, u.email, u.role, u.mfa_enabled
       from api_tokens t join users u on u.id = t.user_id
      where t.token_hash = ? and t.revoked_at is null and t.expires_at > now() and not u.disabled`,
    [hashOpaqueToken(token)],
  );
  if (!row) return null;
  // "Last used" is for people, to a minute: skip the write on every request.
  if (!row.last_used_at || Date.now() - new Date(row.last_used_at).getTime() > 60_000) {
    await em.execute("update api_tokens set last_used_at = now() where id = ?", [row.token_id]);
  }
  return { id: row.id, email: row.email, role: row.role, mfaEnabled: row.mfa_enabled };
}
