import { createHmac } from "node:crypto";
import type { EntityManager } from "@mikro-orm/postgresql";
import { query } from "./sql";

/**
 * The audit log is a hash chain: each event stores HMAC(secret, prevHash + canonical
 * content). Appends take a transaction-scoped advisory lock so the chain has exactly one
 * order, and run inside the caller's transaction so a change and its audit row commit
 * together or not at all.
 */
export const GENESIS_HASH = "0".repeat(64);
const AUDIT_CHAIN_LOCK = 727_001; // arbitrary, constant advisory-lock key for the chain

export type AuditOutcome = "success" | "failure" | "denied";

export type AuditActor = { id: number | null; email: string | null };

export type AuditRequestInfo = {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
};

export type AuditEventInput = {
  actor: AuditActor;
  action: string;
  targetType?: string | null;
  targetId?: string | number | null;
  before?: unknown;
  after?: unknown;
  outcome?: AuditOutcome;
  request?: AuditRequestInfo | null;
};

export type AuditRow = {
  id: number;
  at: Date;
  actorId: number | null;
  actorEmail: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  before: unknown;
  after: unknown;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  outcome: string;
  prevHash: string;
  hash: string;
};

/** Content covered by the hash, in a canonical form both writer and verifier build. */
export function canonicalAuditContent(event: Omit<AuditRow, "id" | "hash">): string {
  return canonicalJson({
    at: event.at.toISOString(),
    actorId: event.actorId,
    actorEmail: event.actorEmail,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    before: event.before ?? null,
    after: event.after ?? null,
    ip: event.ip,
    userAgent: event.userAgent,
    requestId: event.requestId,
    outcome: event.outcome,
  });
}

export function auditHash(secret: string, prevHash: string, canonical: string): string {
  return createHmac("sha256", secret).update(prevHash).update("\n").update(canonical).digest("hex");
}

/** JSON with object keys sorted at every depth (jsonb does not keep key order). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/**
 * Appends one event. Call it with the EntityManager of the transaction that makes the
 * change (`em.transactional(async (tx) => { ...; await recordAuditEvent(tx, secret, e) })`).
 */
export async function recordAuditEvent(
  em: EntityManager,
  secret: string,
  input: AuditEventInput,
): Promise<{ id: number; hash: string }> {
  const [first] = await recordAuditEvents(em, secret, [input]);
  return first!;
}

/**
 * A refused authorization, recorded in its own transaction (the request that was refused
 * changes nothing else): who tried what, and which capability was missing.
 */
export async function recordAccessDenied(
  em: EntityManager,
  secret: string,
  denied: {
    actor: AuditActor & { role?: string | null };
    targetType: "procedure" | "route";
    target: string;
    reason: string;
    request: AuditRequestInfo | null;
  },
): Promise<void> {
  await recordAuditEvent(em.fork(), secret, {
    actor: { id: denied.actor.id, email: denied.actor.email },
    action: "ACCESS_DENIED",
    targetType: denied.targetType,
    targetId: denied.target,
    outcome: "denied",
    after: { reason: denied.reason, role: denied.actor.role ?? null },
    request: denied.request,
  });
}

const COLUMNS =
  "at, actor_id, actor_email, action, target_type, target_id, before, after, ip, user_agent, request_id, outcome, prev_hash, hash";
const RECORD_TYPES =
  "at timestamptz, actor_id integer, actor_email text, action text, target_type text, target_id text, before jsonb, after jsonb, ip text, user_agent text, request_id text, outcome text, prev_hash text, hash text";
const INSERT_BATCH = 1_000;

/**
 * Appends many events in chain order with one lock and multi-row inserts: bulk changes
 * (a 100,000-row import) audit every host without a round trip per event.
 */
export async function recordAuditEvents(
  em: EntityManager,
  secret: string,
  inputs: AuditEventInput[],
): Promise<{ id: number; hash: string }[]> {
  if (!em.isInTransaction()) {
    return em.transactional((tx) => recordAuditEvents(tx, secret, inputs));
  }
  if (inputs.length === 0) return [];
  await em.execute("select pg_advisory_xact_lock(?)", [AUDIT_CHAIN_LOCK]);
  const [last] = await em.execute<{ hash: string }[]>("select hash from audit_events order by id desc limit 1");
  let prevHash = last?.hash ?? GENESIS_HASH;
  const at = new Date();
  const results: { id: number; hash: string }[] = [];
  for (let start = 0; start < inputs.length; start += INSERT_BATCH) {
    const rows: Record<string, unknown>[] = [];
    for (const input of inputs.slice(start, start + INSERT_BATCH)) {
      const event = toEventRow(input, at, prevHash);
      const hash = auditHash(secret, prevHash, canonicalAuditContent(event));
      rows.push({
        at: event.at.toISOString(),
        actor_id: event.actorId,
        actor_email: event.actorEmail,
        action: event.action,
        target_type: event.targetType,
        target_id: event.targetId,
        before: event.before,
        after: event.after,
        ip: event.ip,
        user_agent: event.userAgent,
        request_id: event.requestId,
        outcome: event.outcome,
        prev_hash: prevHash,
        hash,
      });
      prevHash = hash;
    }
    // One JSON parameter per batch: PostgreSQL parses it far faster than 14,000 binds.
    const inserted = await query<{ id: string; hash: string }>(
      em,
      `insert into audit_events (${COLUMNS})
       select ${COLUMNS} from rows from (jsonb_to_recordset(?::jsonb) as (${RECORD_TYPES})) with ordinality as r(${COLUMNS}, n)
       order by n returning id, hash`,
      [JSON.stringify(rows)],
    );
    for (const row of inserted) results.push({ id: Number(row.id), hash: row.hash });
  }
  return results;
}

function toEventRow(input: AuditEventInput, at: Date, prevHash: string): Omit<AuditRow, "id" | "hash"> {
  return {
    at,
    actorId: input.actor.id,
    actorEmail: input.actor.email,
    action: input.action,
    targetType: input.targetType ?? null,
    targetId: input.targetId == null ? null : String(input.targetId),
    before: normaliseJson(input.before),
    after: normaliseJson(input.after),
    ip: input.request?.ip ?? null,
    userAgent: input.request?.userAgent?.slice(0, 512) ?? null,
    requestId: input.request?.requestId ?? null,
    outcome: input.outcome ?? "success",
    prevHash,
  };
}

/** Round-trips through JSON so what is hashed is exactly what jsonb will give back. */
function normaliseJson(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  return JSON.parse(canonicalJson(value));
}

export type VerifyResult = { ok: boolean; checked: number; firstBrokenId: number | null };

/**
 * Walks the chain in id order in batches. The first event whose stored prevHash is not
 * its predecessor's hash (a deleted or inserted row) or whose hash does not match its
 * content (an altered row) is reported.
 */
export async function verifyAuditChain(
  em: EntityManager,
  secret: string,
  batchSize = 5_000,
): Promise<VerifyResult> {
  let expectedPrev = GENESIS_HASH;
  let lastId = 0;
  let checked = 0;
  while (true) {
    const rows = await em.execute<RawAuditRow[]>(
      `select id, at, actor_id, actor_email, action, target_type, target_id, before, after, ip, user_agent, request_id, outcome, prev_hash, hash
       from audit_events where id > ? order by id limit ?`,
      [lastId, batchSize],
    );
    for (const raw of rows) {
      const row = fromRaw(raw);
      checked++;
      const recomputed = auditHash(secret, row.prevHash, canonicalAuditContent(row));
      if (row.prevHash !== expectedPrev || recomputed !== row.hash) {
        return { ok: false, checked, firstBrokenId: row.id };
      }
      expectedPrev = row.hash;
      lastId = row.id;
    }
    if (rows.length < batchSize) return { ok: true, checked, firstBrokenId: null };
  }
}

export type RawAuditRow = {
  id: string | number;
  at: Date | string;
  actor_id: number | null;
  actor_email: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  before: unknown;
  after: unknown;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  outcome: string;
  prev_hash: string;
  hash: string;
};

export function fromRaw(raw: RawAuditRow): AuditRow {
  return {
    id: Number(raw.id),
    at: raw.at instanceof Date ? raw.at : new Date(raw.at),
    actorId: raw.actor_id,
    actorEmail: raw.actor_email,
    action: raw.action,
    targetType: raw.target_type,
    targetId: raw.target_id,
    before: raw.before,
    after: raw.after,
    ip: raw.ip,
    userAgent: raw.user_agent,
    requestId: raw.request_id,
    outcome: raw.outcome,
    prevHash: raw.prev_hash,
    hash: raw.hash,
  };
}
