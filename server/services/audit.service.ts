import type { EntityManager } from "@mikro-orm/postgresql";
import {
  type AuditContent,
  type AuditContentFixed,
  auditContentParts,
  auditHash,
  AuditHasher,
  type CanonicalJsonWriter,
  canonicalAuditContent,
  canonicalJson,
} from "./audit-encoding";
import { BinaryCopyRows, timestamptzField } from "./pg-binary-copy";
import { copyIn, type StatementQueue } from "./pg-copy";
import { query } from "./sql";

export { auditHash, canonicalAuditContent, canonicalJson } from "./audit-encoding";

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

export type AuditRow = AuditContent & { id: number; prevHash: string; hash: string };

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
  "at timestamptz, actor_id integer, actor_email text, action text, target_type text, target_id text, before json, after json, ip text, user_agent text, request_id text, outcome text, prev_hash text, hash text";
const INSERT_BATCH = 1_000;

/**
 * What events of one kind share: who, what, from where, and the hashed text around the
 * three values that differ per event (after, before, target id). Built once and reused
 * while consecutive events share their actor and request objects, action, target type
 * and outcome, as the thousands of events of one import do.
 */
type EventKind = AuditContentFixed & {
  actor: AuditActor;
  request: AuditRequestInfo | null | undefined;
  /** The canonical content around the values of each event (auditContentParts). */
  text: [string, string, string, string];
  /** Binary COPY runs of the shared columns, made when first needed (AuditBulkAppender). */
  copyHead?: Buffer;
  copyTail?: Buffer;
};

/**
 * An event ready to append: its kind, its own columns (before/after as canonical JSON:
 * text, or for a prepared event the UTF-8 bytes of `after`) and its hash.
 */
type ChainedEvent<After> = {
  kind: EventKind;
  targetId: string | null;
  before: string | null;
  after: After;
  prevHash: string;
  hash: string;
};

/**
 * The end of the chain, inside a transaction holding the chain lock: each event appended
 * through it is hashed over its predecessor. Events of one call share one timestamp.
 */
class AuditChain {
  readonly atIso: string;
  private readonly hasher: AuditHasher;
  private kind: EventKind | null = null;

  private constructor(
    secret: string,
    private prevHash: string,
    readonly at: Date,
  ) {
    this.atIso = at.toISOString();
    this.hasher = new AuditHasher(secret);
  }

  /** Takes the chain lock (until the transaction ends) and reads the last hash. */
  static async open(em: EntityManager, secret: string): Promise<AuditChain> {
    await em.execute("select pg_advisory_xact_lock(?)", [AUDIT_CHAIN_LOCK]);
    const [last] = await em.execute<{ hash: string }[]>("select hash from audit_events order by id desc limit 1");
    return new AuditChain(secret, last?.hash ?? GENESIS_HASH, new Date());
  }

  next(input: AuditEventInput): ChainedEvent<string | null> {
    const kind = this.kindOf(input);
    const targetId = targetIdOf(input);
    const before = beforeOf(input);
    // Stored as `json` (ADR 013): the column keeps exactly the text that was hashed.
    const after = input.after === undefined || input.after === null ? null : canonicalJson(input.after);
    // The hash of the text canonicalAuditContent gives the verifier, around this kind's parts.
    const prevHash = this.prevHash;
    this.prevHash = this.hasher.hashOfParts(prevHash, kind.text, targetId, before ?? "null", after ?? "null");
    return { kind, targetId, before, after, prevHash, hash: this.prevHash };
  }

  /**
   * The next event, its `after` written straight into the hash's input; its bytes come
   * back as a view, valid until the next event is chained.
   */
  nextPrepared<T>(input: PreparedAuditEvent<T>): ChainedEvent<Buffer> {
    const kind = this.kindOf(input);
    const targetId = targetIdOf(input);
    const before = beforeOf(input);
    const prevHash = this.prevHash;
    this.prevHash = this.hasher.hashOfPrepared(prevHash, kind.text, targetId, before ?? "null", input.after, input.writeAfter);
    return { kind, targetId, before, after: this.hasher.lastAfter(), prevHash, hash: this.prevHash };
  }

  private kindOf(input: AuditEventInput | PreparedAuditEvent<unknown>): EventKind {
    const last = this.kind;
    const targetType = input.targetType ?? null;
    const outcome = input.outcome ?? "success";
    if (last && last.actor === input.actor && last.request === input.request && last.action === input.action && last.targetType === targetType && last.outcome === outcome) {
      return last;
    }
    const fields: AuditContentFixed = {
      actorId: input.actor.id,
      actorEmail: input.actor.email,
      action: input.action,
      targetType,
      ip: input.request?.ip ?? null,
      userAgent: input.request?.userAgent?.slice(0, 512) ?? null,
      requestId: input.request?.requestId ?? null,
      outcome,
    };
    this.kind = { actor: input.actor, request: input.request, ...fields, text: auditContentParts(fields, this.atIso) };
    return this.kind;
  }
}

/**
 * An event for a bulk append whose `after` comes with its own serialiser (giving exactly
 * the bytes of canonicalJson of the value), for many values of one known shape: faster
 * than the generic function, and written once, straight into the hashed text.
 */
export type PreparedAuditEvent<T> = Omit<AuditEventInput, "after"> & { after: T; writeAfter: CanonicalJsonWriter<T> };

const targetIdOf = (input: { targetId?: string | number | null }) => (input.targetId == null ? null : String(input.targetId));
const beforeOf = (input: { before?: unknown }) => (input.before === undefined || input.before === null ? null : canonicalJson(input.before));

const jsonText = (value: string | number | null) => (value === null ? "null" : JSON.stringify(value));

/**
 * Appends many events in chain order with one lock and multi-row inserts: several events
 * of one change (a user and their tokens) without a round trip per event. Bulk writes
 * (an import's hosts) use AuditBulkAppender.
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
  const chain = await AuditChain.open(em, secret);
  const results: { id: number; hash: string }[] = [];
  for (let start = 0; start < inputs.length; start += INSERT_BATCH) {
    // One JSON document per batch (PostgreSQL parses it far faster than 14,000 binds),
    // written by hand so before/after go in as their canonical text.
    const rows = inputs.slice(start, start + INSERT_BATCH).map((input) => {
      const e = chain.next(input);
      const k = e.kind;
      return `{"at":${jsonText(chain.atIso)},"actor_id":${jsonText(k.actorId)},"actor_email":${jsonText(k.actorEmail)},"action":${jsonText(k.action)},"target_type":${jsonText(k.targetType)},"target_id":${jsonText(e.targetId)},"before":${e.before ?? "null"},"after":${e.after ?? "null"},"ip":${jsonText(k.ip)},"user_agent":${jsonText(k.userAgent)},"request_id":${jsonText(k.requestId)},"outcome":${jsonText(k.outcome)},"prev_hash":${jsonText(e.prevHash)},"hash":${jsonText(e.hash)}}`;
    });
    const inserted = await query<{ id: string; hash: string }>(
      em,
      `insert into audit_events (${COLUMNS})
       select ${COLUMNS} from rows from (json_to_recordset(?::json) as (${RECORD_TYPES})) with ordinality as r(${COLUMNS}, n)
       order by n returning id, hash`,
      [`[${rows.join(",")}]`],
    );
    for (const row of inserted) results.push({ id: Number(row.id), hash: row.hash });
  }
  return results;
}

const COPY_SQL = `copy audit_events (${COLUMNS}) from stdin with (format binary)`;

/**
 * Appends events by the tens of thousands (an import's per-host events): each call chains
 * its events in memory and queues one binary COPY of them on the transaction's statement
 * queue, without waiting, so the caller can prepare the next batch while PostgreSQL
 * writes this one. The chain lock is held from open() to the end of the transaction;
 * await every append before anything else writes to the chain.
 */
export class AuditBulkAppender {
  private constructor(private readonly chain: AuditChain) {}

  static async open(em: EntityManager, secret: string): Promise<AuditBulkAppender> {
    if (!em.isInTransaction()) throw new Error("AuditBulkAppender needs the change's transaction");
    return new AuditBulkAppender(await AuditChain.open(em, secret));
  }

  /**
   * Chains and encodes the events (letting the event loop turn through `pause`), queues
   * their COPY, and resolves with `stored`, which settles once PostgreSQL has them. Calls must
   * not overlap: await one before the next. `statements` must run on the connection of
   * the transaction open() was given.
   */
  async append<T>(
    statements: StatementQueue,
    inputs: readonly (AuditEventInput | PreparedAuditEvent<T>)[],
    pause: () => Promise<void> | undefined = () => undefined,
  ): Promise<{ stored: Promise<number> }> {
    if (inputs.length === 0) return { stored: Promise.resolve(0) };
    const rows = new BinaryCopyRows();
    for (const input of inputs) {
      const turn = pause();
      if (turn) await turn;
      const e = "writeAfter" in input ? this.chain.nextPrepared(input) : this.chain.next(input);
      const kind = e.kind;
      // at, actor_id, actor_email, action, target_type
      kind.copyHead ??= BinaryCopyRows.fields((f) =>
        f.encoded(timestamptzField(this.chain.at)).int4(kind.actorId).text(kind.actorEmail).text(kind.action).text(kind.targetType),
      );
      // ip, user_agent, request_id, outcome
      kind.copyTail ??= BinaryCopyRows.fields((f) => f.text(kind.ip).text(kind.userAgent).text(kind.requestId).text(kind.outcome));
      rows.row(14).encoded(kind.copyHead).text(e.targetId).text(e.before);
      if (e.after instanceof Uint8Array) rows.utf8(e.after);
      else rows.text(e.after);
      rows.encoded(kind.copyTail).text(e.prevHash).text(e.hash);
    }
    const data = rows.finish();
    // Wrapped: an awaited promise of a promise would wait for the COPY itself.
    return { stored: statements.run((connection) => copyIn(connection, COPY_SQL, data)) };
  }
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
