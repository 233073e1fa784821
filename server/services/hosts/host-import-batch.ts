import type { Config } from "../../config";
import { HostnameLines } from "../../domain/csv/hostname-lines";
import type { HostsCsvRow } from "../../domain/csv/hosts-csv";
import type { HostFields } from "../../domain/hosts/host-fields";
import { DomainError } from "../../errors";
import { writeJsonString, writeJsonStringArray } from "../audit-encoding";
import type { AuditActor, AuditBulkAppender, AuditEventInput, AuditRequestInfo, PreparedAuditEvent } from "../audit.service";
import { BinaryCopyRows } from "../pg-binary-copy";
import { periodicYield } from "../event-loop";
import { copyIn, type StatementQueue } from "../pg-copy";
import type { Utf8Out } from "../utf8-out";
import { AUDITED_FIELDS, type AuditedField, sameFieldValue } from "./host-view";
import type { HostRow } from "./host-list";

/**
 * One batch of an import (a few thousand rows in file order): look the hostnames up,
 * classify each row (create / update / unchanged) and, for an apply, write the hosts and
 * their audit events. Everything goes through one connection — the apply's transaction —
 * whose queue keeps statements in order, so the writes of one batch are sent without
 * waiting for the previous batch's to finish: PostgreSQL stores batch N while this
 * process parses batch N+1.
 */

export type ImportAction = "create" | "update" | "unchanged";

// Rows classified or encoded between turns of the event loop (see yieldToEventLoop).
const ROWS_BETWEEN_YIELDS = 250;

export type BatchOutcome = {
  actions: { row: HostsCsvRow; action: ImportAction; changedFields: string[] }[];
  /** Settles when the batch's writes are stored (at once for a dry run). */
  written: Promise<void>;
};

export type ImportWriter = {
  config: Config;
  actor: AuditActor & { id: number };
  request: AuditRequestInfo;
  audit: AuditBulkAppender;
};

type HostUpdate = { id: number; version: number; fields: HostFields; before: Record<string, unknown>; after: Record<string, unknown> };

/**
 * What classifying a row needs of a stored host: its id, version and audited fields.
 * Only these are read (not timestamps and actors), which on a file of existing hosts
 * saves parsing and keeping thousands of dates per batch.
 */
const LOOKUP_COLUMNS = ["id", "version", "hostname", "ip", "port", "ssh_user", "bastion", "ssh_template", "environment", "os", "tags", "prometheus_instance", "notes"] as const;
type StoredHost = Pick<HostRow, (typeof LOOKUP_COLUMNS)[number]>;

/** The column of a stored host holding each audited field. */
const STORED_COLUMN = {
  hostname: "hostname",
  ip: "ip",
  port: "port",
  sshUser: "ssh_user",
  bastion: "bastion",
  sshTemplate: "ssh_template",
  environment: "environment",
  os: "os",
  tags: "tags",
  prometheusInstance: "prometheus_instance",
  notes: "notes",
} as const satisfies Record<AuditedField, keyof StoredHost>;

/**
 * The audited fields the row would change: only those the file has a column for can
 * differ (the others keep their stored values). Allocates nothing for an unchanged host,
 * the common case when a fleet's file is imported again.
 */
function changedFields(row: HostsCsvRow, stored: StoredHost): AuditedField[] {
  let changed: AuditedField[] | null = null;
  for (const field of AUDITED_FIELDS) {
    if (!row.presentFields.includes(field) || sameFieldValue(row.fields[field], stored[STORED_COLUMN[field]])) continue;
    changed ??= [];
    changed.push(field);
  }
  return changed ?? NO_FIELDS;
}

const NO_FIELDS: AuditedField[] = [];

/** The update a row makes to a stored host: the row's fields over the stored ones, and the changes. */
function updateOf(row: HostsCsvRow, stored: StoredHost, changed: AuditedField[]): HostUpdate {
  const fields = { ...row.fields } as Record<AuditedField, unknown>;
  for (const field of AUDITED_FIELDS) {
    if (!row.presentFields.includes(field)) fields[field] = stored[STORED_COLUMN[field]];
  }
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  for (const field of changed) {
    before[field] = stored[STORED_COLUMN[field]] ?? null;
    after[field] = fields[field] ?? null;
  }
  return { id: stored.id, version: stored.version, fields: fields as HostFields, before, after };
}

/**
 * The hosts named in the batch, one index probe per hostname. Written as a lateral
 * subquery with `limit 1` (hostname is unique) so it stays a probe: during an apply the
 * table grows by thousands of (uncommitted) rows its statistics do not know about yet,
 * and a plain `hostname = any(…)` or join is then planned as a sequential scan of the
 * whole table per batch. Hostnames travel as one newline-separated text (they cannot hold a
 * newline), which is cheaper to send than an array of thousands of quoted elements.
 */
const FOUND = `select h.* from unnest(string_to_array($1, E'\\n')) as u(hostname)
  cross join lateral (select ${LOOKUP_COLUMNS.join(", ")} from hosts where hosts.hostname = u.hostname limit 1) h`;
const LOOKUP_SQL = `select f.*, null::int[] as new_ids from (${FOUND}) f`;
/**
 * For an apply, also one fresh id per row of the batch not found (each such row is a create:
 * the file has no duplicate hostnames), in the same round trip: one more row, whose hosts
 * columns are all null and whose new_ids holds them.
 */
const LOOKUP_WITH_IDS_SQL = `with found as materialized (${FOUND})
  select f.*, null::int[] as new_ids from found f
  union all
  select ${LOOKUP_COLUMNS.map(() => "null").join(", ")},
    array(select nextval('hosts_id_seq')::int from generate_series(1, $2::int - (select count(*) from found)::int))`;

export type BatchLookup = { existing: Map<string, StoredHost>; freshIds: number[] };

// Stored hosts read per query by knownHostnames, and at most how many it keeps.
const KNOWN_HOSTNAMES_PER_QUERY = 10_000;
const KNOWN_HOSTNAMES_MAX = 250_000;

/**
 * The hostnames stored when the import starts, if there are at most `limit` of them
 * (else null). With them, each batch asks the database only about the rows that may
 * exist, and a file of new hosts costs no index probes at all: one probe per row was
 * about an eighth of the database's work in an apply (ADR 015). Kept as fingerprints
 * (~26 bytes a host); a host created by someone else after this read is caught when written (the
 * unique index: CONFLICT), as one created after a batch's lookup always was. The caller
 * sets `limit` from the file's size, so a small file does not read a large fleet.
 */
export async function knownHostnames(statements: StatementQueue, limit: number): Promise<HostnameLines | null> {
  // The planner's estimate of the table's size spares reading a large fleet only to give up.
  const estimate = await statements.run((c) => c.query<{ rows: number }>("select reltuples::float8 as rows from pg_class where oid = 'hosts'::regclass"));
  if ((estimate.rows[0]?.rows ?? 0) > limit * 2) return null;
  const known = new HostnameLines();
  const perQuery = Math.min(KNOWN_HOSTNAMES_PER_QUERY, limit + 1);
  for (let afterId = 0; ; ) {
    const { rows } = await statements.run((c) =>
      c.query<{ id: number; hostname: string }>("select id, hostname from hosts where id > $1 order by id limit $2", [afterId, perQuery]),
    );
    for (const row of rows) known.firstLineOrAdd(row.hostname, 0);
    if (known.size > limit) return null;
    if (rows.length < perQuery) return known;
    afterId = rows[rows.length - 1]!.id;
  }
}

/**
 * How many stored hostnames an import reads up front (knownHostnames): no more than the
 * file can have rows (a row takes at least two bytes; a stream of unknown size may be
 * up to the row limit), and at most KNOWN_HOSTNAMES_MAX (about 6 MB of fingerprints, read
 * in ~0.2 s). Past that, batches look up all their rows, as a small file in a large
 * fleet should.
 */
export function knownHostnamesLimit(limits: { maxRows: number; fileBytes: number | null }): number {
  const rowsAtMost = limits.fileBytes === null ? limits.maxRows : Math.min(limits.maxRows, Math.ceil(limits.fileBytes / 2));
  return Math.min(KNOWN_HOSTNAMES_MAX, rowsAtMost);
}

/**
 * Queues the batch's lookup now (ahead of the classification of earlier batches: the
 * file has no duplicate hostnames, so no batch's writes change another's lookup), so
 * PostgreSQL has it in hand while this process classifies the batch before it. Only the
 * rows whose hostname is `known` are looked up (all of them when `known` is null).
 */
export async function lookUpBatch(
  statements: StatementQueue,
  rows: HostsCsvRow[],
  known: HostnameLines | null,
  withIds: boolean,
): Promise<BatchLookup> {
  const candidates = known === null ? rows : known.size === 0 ? [] : rows.filter((row) => known.has(row.fields.hostname));
  const existing = new Map<string, StoredHost>();
  let freshIds: number[] = [];
  if (candidates.length === 0 && !withIds) return { existing, freshIds };
  const hostnames = candidates.map((r) => r.fields.hostname).join("\n");
  const found = await statements.run((c) =>
    c.query<StoredHost & { new_ids: number[] | null }>(withIds ? LOOKUP_WITH_IDS_SQL : LOOKUP_SQL, withIds ? [hostnames, rows.length] : [hostnames]),
  );
  for (const row of found.rows) {
    if (row.new_ids === null) existing.set(row.hostname, row);
    else freshIds = row.new_ids;
  }
  return { existing, freshIds };
}

/** Classifies the batch's rows and, for an apply, queues their writes. */
export async function classifyBatch(
  statements: StatementQueue,
  rows: HostsCsvRow[],
  { existing, freshIds }: BatchLookup,
  writer: ImportWriter | null,
): Promise<BatchOutcome> {
  const pause = periodicYield(ROWS_BETWEEN_YIELDS);
  const actions: BatchOutcome["actions"] = [];
  const creates: { id: number; fields: HostFields }[] = [];
  const updates: HostUpdate[] = [];
  for (const row of rows) {
    const turn = pause();
    if (turn) await turn;
    const current = existing.get(row.fields.hostname);
    if (!current) {
      actions.push({ row, action: "create", changedFields: [] });
      if (writer) creates.push({ id: freshIds[creates.length]!, fields: row.fields });
      continue;
    }
    const changed = changedFields(row, current);
    if (changed.length === 0) {
      actions.push({ row, action: "unchanged", changedFields: [] });
    } else {
      actions.push({ row, action: "update", changedFields: changed });
      updates.push(updateOf(row, current, changed));
    }
  }
  // Wrapped: an awaited promise of a promise would wait for the writes themselves.
  const written = writer ? (await queueWrites(statements, writer, creates, updates, pause)).stored : Promise.resolve();
  // Settled by the caller in order; this keeps a failure from being unhandled meanwhile.
  written.catch(() => {});
  return { actions, written };
}

const HOSTS_COPY_SQL = `copy hosts (id, hostname, ip, port, ssh_user, bastion, ssh_template, environment, os, tags,
  prometheus_instance, notes, created_by, updated_by) from stdin with (format binary)`;

const UPDATE_SQL = `update hosts h set ip = u.ip, port = u.port, ssh_user = u.ssh_user, bastion = u.bastion,
    ssh_template = u.ssh_template, environment = u.environment, os = u.os,
    tags = coalesce(array(select json_array_elements_text(u.tags)), '{}'), prometheus_instance = u.prometheus_instance,
    notes = u.notes, version = h.version + 1, updated_at = now(), updated_by = $1
  from json_to_recordset($2::json) as u(id int, version int, ip text, port int, ssh_user text, bastion text,
    ssh_template text, environment text, os text, tags json, prometheus_instance text, notes text)
  where h.id = u.id and h.version = u.version`;

/**
 * Encodes and queues the batch's statements (the hosts' COPY goes out before the audit
 * events are encoded); `stored` settles when all are.
 */
async function queueWrites(
  queue: StatementQueue,
  writer: ImportWriter,
  creates: { id: number; fields: HostFields }[],
  updates: HostUpdate[],
  pause: () => Promise<void> | undefined,
): Promise<{ stored: Promise<void> }> {
  const statements: Promise<unknown>[] = [];
  // Each is settled together below; until then a failure must not count as unhandled.
  const track = (statement: Promise<unknown>) => {
    statement.catch(() => {});
    statements.push(statement);
  };
  const events: (AuditEventInput | PreparedAuditEvent<HostFields>)[] = [];
  const actorId = writer.actor.id;
  if (creates.length > 0) {
    const copy = new BinaryCopyRows();
    for (const { id, fields: f } of creates) {
      const turn = pause();
      if (turn) await turn;
      copy
        .row(14)
        .int4(id)
        .text(f.hostname)
        .text(f.ip)
        .int4(f.port)
        .text(f.sshUser)
        .text(f.bastion)
        .text(f.sshTemplate)
        .text(f.environment)
        .text(f.os)
        .textArray(f.tags)
        .text(f.prometheusInstance)
        .text(f.notes)
        .int4(actorId)
        .int4(actorId);
      events.push({
        actor: writer.actor,
        action: "HOST_CREATED",
        targetType: "host",
        targetId: id,
        after: f,
        writeAfter: writeCreatedHostJson,
        request: writer.request,
      });
    }
    const data = copy.finish();
    track(queue.run((c) => copyIn(c, HOSTS_COPY_SQL, data)));
  }
  if (updates.length > 0) {
    const document = JSON.stringify(
      updates.map(({ id, version, fields: f }) => ({
        id,
        version,
        ip: f.ip,
        port: f.port,
        ssh_user: f.sshUser,
        bastion: f.bastion,
        ssh_template: f.sshTemplate,
        environment: f.environment,
        os: f.os,
        tags: f.tags,
        prometheus_instance: f.prometheusInstance,
        notes: f.notes,
      })),
    );
    // Each update names the version it was classified against (looked up outside this
    // transaction): a host changed or deleted since then is not overwritten.
    track(
      queue.run(async (c) => {
        const { rowCount } = await c.query(UPDATE_SQL, [actorId, document]);
        if (rowCount !== updates.length) throw changedMeanwhile();
      }),
    );
    for (const update of updates) {
      events.push({
        actor: writer.actor,
        action: "HOST_UPDATED",
        targetType: "host",
        targetId: update.id,
        before: update.before,
        after: { ...update.after, via: "csv-import" },
        request: writer.request,
      });
    }
  }
  track((await writer.audit.append(queue, events, pause)).stored);
  const stored = Promise.all(statements).then(
    () => undefined,
    (error: unknown) => {
      throw describeWriteError(error);
    },
  );
  return { stored };
}

/**
 * A created host's audited fields as canonical JSON (canonicalJson of them), written
 * straight into the audit chain's hash input with the keys in sorted order: built as a
 * string, the text of 100,000 events was concatenated, copied flat and encoded twice (for
 * the hash and the COPY). A unit test holds the two equal.
 */
export function writeCreatedHostJson(f: HostFields, out: Utf8Out): void {
  for (let i = 0; i < SORTED_AUDITED_FIELDS.length; i++) {
    out.text(SORTED_KEYS[i]!);
    const value = f[SORTED_AUDITED_FIELDS[i]!];
    if (typeof value === "number") out.text(String(value));
    else if (Array.isArray(value)) writeJsonStringArray(out, value);
    else writeJsonString(out, value);
  }
  out.text("}");
}

// canonicalJson's key order, and each key as written: `{"bastion":`, `,"environment":`, …
const SORTED_AUDITED_FIELDS = [...AUDITED_FIELDS].sort();
const SORTED_KEYS = SORTED_AUDITED_FIELDS.map((field, i) => `${i === 0 ? "{" : ","}${JSON.stringify(field)}:`);

/** A host created by someone else while the import ran is a conflict to retry, not a crash. */
function describeWriteError(error: unknown): unknown {
  if ((error as { code?: string }).code === "23505" && String((error as { constraint?: string }).constraint).startsWith("hosts_")) {
    return changedMeanwhile();
  }
  return error;
}

function changedMeanwhile(): DomainError {
  return new DomainError(
    "CONFLICT",
    "Another change added, edited or deleted one of these hosts while the import ran; nothing was imported. Run the import again.",
  );
}
