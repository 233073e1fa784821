import type { EntityManager } from "@mikro-orm/postgresql";
import { type AuditActor, type AuditRequestInfo, type AuditRow, type RawAuditRow, recordAuditEvent } from "./audit.service";
import { canonicalJson } from "./audit-encoding";
import { query } from "./sql";
import { z } from "zod";
import { escapeCsvCell } from "../domain/csv/csv-cell";
import { DomainError } from "../errors";

/**
 * Reading the audit log: the filters, the newest-first page, and the oldest-first export
 * batches. `audit.list`, the `/audit` page and `GET /audit/export` all go through here,
 * so a filter means the same thing everywhere.
 */

/** Actions the app writes, offered in the page's select (free text covers any other). */
export const KNOWN_AUDIT_ACTIONS = [
  "ACCESS_DENIED",
  "API_TOKEN_CREATED",
  "API_TOKEN_REVOKED",
  "ARTIFACT_DELETED",
  "ARTIFACT_DOWNLOADED",
  "ARTIFACT_UPLOADED",
  "AUDIT_EXPORTED",
  "DEVICE_TOKEN_LOCKED",
  "HOSTS_EXPORTED",
  "HOSTS_IMPORTED",
  "HOST_CREATED",
  "HOST_DELETED",
  "HOST_UPDATED",
  "LOGIN_FAILED",
  "LOGIN_SUCCEEDED",
  "LOGOUT",
  "METRICS_UPDATED",
  "MFA_DISABLED",
  "MFA_ENROLLED",
  "MFA_FAILED",
  "PASSWORD_CHANGED",
  "REFRESH_TOKEN_REUSED",
  "SETTINGS_UPDATED",
  "SSH_COMMAND_COPIED",
  "USER_CREATED",
  "USER_UPDATED",
] as const;

// `2026-11-25T10:00` (an <input type="datetime-local">, read as UTC), with optional
// seconds/fraction, or a full ISO 8601 instant with Z or an offset (scripts).
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$/;
// Blank means "no filter" (an empty form field), for every filter.
const dateTimeInput = z
  .string()
  .trim()
  .refine(
    (value) => value === "" || (DATE_TIME.test(value) && !Number.isNaN(parseInstant(value).getTime())),
    "Use a date and time such as 2026-11-25T10:00 (UTC) or an ISO 8601 instant.",
  );

/** The filters, as procedures take them. Blank strings mean "no filter". */
export const auditFiltersSchema = z.object({
  /** An email substring (case-insensitive), or a user id when all digits. */
  actor: z.string().trim().max(320).optional(),
  /** An exact action (case-insensitive); `HOST_*` matches every action starting with HOST_. */
  action: z.string().trim().max(64).optional(),
  targetType: z.string().trim().max(64).optional(),
  targetId: z.string().trim().max(128).optional(),
  /** From this instant, inclusive. */
  from: dateTimeInput.optional(),
  /** Up to this instant, inclusive (a minute-precision value includes that whole minute). */
  to: dateTimeInput.optional(),
});
export type AuditFilters = z.infer<typeof auditFiltersSchema>;

export const AUDIT_FILTER_KEYS = ["actor", "action", "targetType", "targetId", "from", "to"] as const;

/** Filters from a query string (the page and the export share the parameter names). */
export function auditFiltersFromSearchParams(params: URLSearchParams): z.ZodSafeParseResult<AuditFilters> {
  const raw: Record<string, string | undefined> = {};
  for (const key of AUDIT_FILTER_KEYS) raw[key] = params.get(key) ?? undefined;
  return auditFiltersSchema.safeParse(raw);
}

/** Only the filters that are set, for audit records and links. */
export function activeAuditFilters(filters: AuditFilters): Partial<Record<(typeof AUDIT_FILTER_KEYS)[number], string>> {
  const out: Partial<Record<(typeof AUDIT_FILTER_KEYS)[number], string>> = {};
  for (const key of AUDIT_FILTER_KEYS) {
    const value = filters[key];
    if (value) out[key] = value;
  }
  return out;
}

function parseInstant(value: string): Date {
  return new Date(/(Z|[+-]\d{2}:\d{2})$/.test(value) ? value : `${value}Z`);
}

/** `to` without seconds means "until the end of that minute": what a person picking 10:00 expects. */
function upperBound(value: string): Date {
  const at = parseInstant(value);
  return /T\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})?$/.test(value) ? new Date(at.getTime() + 59_999) : at;
}

const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** SQL conditions (joined with AND) and their parameters, in `?` placeholder form. */
function whereClause(filters: AuditFilters): { sql: string[]; params: unknown[] } {
  const sql: string[] = [];
  const params: unknown[] = [];
  if (filters.actor) {
    if (/^\d{1,9}$/.test(filters.actor)) {
      sql.push("actor_id = ?");
      params.push(Number(filters.actor));
    } else {
      sql.push("actor_email ilike ?");
      params.push(likePattern(filters.actor));
    }
  }
  if (filters.action) {
    const action = filters.action.toUpperCase();
    if (action.endsWith("*")) {
      // A prefix LIKE on (action, id) stays an index range scan.
      sql.push("action like ?");
      params.push(`${action.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    } else {
      sql.push("action = ?");
      params.push(action);
    }
  }
  if (filters.targetType) {
    sql.push("target_type = ?");
    params.push(filters.targetType);
  }
  if (filters.targetId) {
    sql.push("target_id = ?");
    params.push(filters.targetId);
  }
  if (filters.from) {
    sql.push("at >= ?");
    params.push(parseInstant(filters.from));
  }
  if (filters.to) {
    sql.push("at <= ?");
    params.push(upperBound(filters.to));
  }
  return { sql, params };
}

// ---- Cursors ---------------------------------------------------------------------------

/** A page cursor is the last id shown; ids follow the chain order, so new events never shift pages. */
export function encodeAuditCursor(id: number): string {
  return Buffer.from(`a:${id}`).toString("base64url");
}

function decodeAuditCursor(cursor: string): number {
  const match = /^a:(\d{1,19})$/.exec(Buffer.from(cursor, "base64url").toString());
  const id = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(id) || id < 1) {
    throw new DomainError("BAD_REQUEST", "That page link is not valid any more; start from the first page.");
  }
  return id;
}

/** A cursor whose page starts with event `id` (for linking to one event, e.g. a broken link in the chain). */
export function cursorStartingAt(id: number): string {
  return encodeAuditCursor(id + 1);
}

// ---- The list --------------------------------------------------------------------------

/** An event as procedures return it: every stored field, dates as ISO 8601. */
export type AuditEventView = Omit<AuditRow, "at"> & { at: string };

/**
 * `at` is formatted by PostgreSQL exactly as `Date.toISOString()` would (the hashed
 * form): cheaper than parsing a timestamp into a Date per row and formatting it again.
 * Timestamps are written from JavaScript Dates, so they never carry more than milliseconds.
 */
const SELECT_COLUMNS = `id, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at, actor_id, actor_email,
  action, target_type, target_id, before, after, ip, user_agent, request_id, outcome, prev_hash, hash`;

/** A raw row as the export query reads it (`at` already formatted, `id` as text). */
export type AuditExportRow = RawAuditRow & { id: string; at: string };

function toView(row: AuditExportRow): AuditEventView {
  return {
    id: Number(row.id),
    at: row.at,
    actorId: row.actor_id,
    actorEmail: row.actor_email,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    before: row.before,
    after: row.after,
    ip: row.ip,
    userAgent: row.user_agent,
    requestId: row.request_id,
    outcome: row.outcome,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** Newest first, keyset on id: pages stay stable while events are appended. */
export async function listAuditEvents(
  em: EntityManager,
  input: AuditFilters & { cursor?: string; limit?: number },
): Promise<{ items: AuditEventView[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(input.limit ?? 50, 1), 100);
  const where = whereClause(input);
  if (input.cursor) {
    where.sql.push("id < ?");
    where.params.push(decodeAuditCursor(input.cursor));
  }
  const rows = await em.execute<AuditExportRow[]>(
    `select ${SELECT_COLUMNS} from audit_events ${where.sql.length ? `where ${where.sql.join(" and ")}` : ""}
     order by id desc limit ?`,
    [...where.params, limit + 1],
  );
  const items = rows.slice(0, limit).map(toView);
  const last = rows.length > limit ? items[limit - 1]! : null;
  return { items, nextCursor: last ? encodeAuditCursor(last.id) : null };
}

// ---- The export ------------------------------------------------------------------------

export const EXPORT_BATCH_SIZE = 1_000;

/**
 * The filtered events up to `maxId`, oldest first (chain order, so a verifier can walk
 * it), in keyset batches of `batchSize`.
 *
 * Keyset batches rather than `DECLARE … CURSOR`: both stream, and on 1M rows they read at
 * the same speed (the benchmark prints both), but a server-side cursor pins a pooled
 * connection inside an open transaction for the whole download, however slowly the client
 * reads; keyset batches give the connection back between batches and hold no snapshot that
 * would keep VACUUM waiting. The next batch is requested before the current one is handed
 * out, so the database works while the caller formats and writes (at most two batches in memory).
 * `maxId` (taken when the export starts) keeps an export from chasing events appended during it.
 */
export async function* auditExportBatches(
  em: EntityManager,
  filters: AuditFilters,
  maxId: number,
  batchSize = EXPORT_BATCH_SIZE,
): AsyncGenerator<AuditExportRow[]> {
  const where = whereClause(filters);
  const sql = `select ${SELECT_COLUMNS} from audit_events
    where ${[...where.sql, "id > ?", "id <= ?"].join(" and ")} order by id limit ?`;
  const fetchAfter = (lastId: number) => query<AuditExportRow>(em, sql, [...where.params, lastId, maxId, batchSize]);
  let pending: Promise<AuditExportRow[]> | null = fetchAfter(0);
  while (pending) {
    const rows: AuditExportRow[] = await pending;
    pending = rows.length === batchSize ? fetchAfter(Number(rows[rows.length - 1]!.id)) : null;
    // The prefetch must not reject unobserved if the consumer stops early.
    pending?.catch(() => undefined);
    if (rows.length) yield rows;
  }
}

/** The formula guard, in SQL: one `'` before = + - @ tab CR or ' (the same rule as csvText). */
const guard = (column: string) =>
  `case when left(${column}, 1) in ('=', '+', '-', '@', chr(9), chr(13), chr(39)) then chr(39) || ${column} else ${column} end`;

/**
 * The CSV export as one `COPY (SELECT …) TO STDOUT` statement: PostgreSQL formats and
 * quotes every cell (FORCE_QUOTE: every non-null cell is quoted, so null and "" stay
 * distinct and ";" is always inside quotes), the app only passes bytes on. Values are
 * inlined as escaped literals (COPY takes no bind parameters). `before`/`after` are
 * JSON as PostgreSQL prints it: parse it, then canonicalise, to verify (docs).
 */
export function auditCsvCopySql(em: EntityManager, filters: AuditFilters, maxId: number): string {
  const where = whereClause(filters);
  const select = `select id, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at, actor_id,
      ${guard("actor_email")}, ${guard("action")}, ${guard("target_type")}, ${guard("target_id")},
      ${guard("coalesce(before::text, 'null')")}, ${guard("coalesce(after::text, 'null')")},
      ${guard("ip")}, ${guard("user_agent")}, ${guard("request_id")}, ${guard("outcome")}, prev_hash, hash
    from audit_events where ${[...where.sql, "id <= ?"].join(" and ")} order by id`;
  const inlined = em.getKnex().raw(select, [...where.params, maxId] as never[]).toQuery();
  return `copy (${inlined}) to stdout with (format csv, force_quote *)`;
}

/**
 * Records an export before its first byte (an export that fails midway was still
 * attempted). The returned id bounds the export: the file ends with this very event when
 * the filters match it, and events appended meanwhile are not chased.
 */
export async function recordAuditExport(
  em: EntityManager,
  secret: string,
  actor: AuditActor,
  filters: AuditFilters,
  format: "csv" | "jsonl",
  request: AuditRequestInfo,
): Promise<{ id: number }> {
  return recordAuditEvent(em, secret, {
    actor,
    action: "AUDIT_EXPORTED",
    targetType: "audit_events",
    after: { filters: activeAuditFilters(filters), format },
    request,
  });
}

/** The highest event id now (0 for an empty log). */
export async function latestAuditId(em: EntityManager): Promise<number> {
  const [row] = await em.execute<{ id: string | null }[]>("select max(id) as id from audit_events");
  return Number(row?.id ?? 0);
}

/** Export columns, named as the database columns; `before`/`after` hold canonical JSON. */
export const AUDIT_EXPORT_COLUMNS = [
  "id",
  "at",
  "actor_id",
  "actor_email",
  "action",
  "target_type",
  "target_id",
  "before",
  "after",
  "ip",
  "user_agent",
  "request_id",
  "outcome",
  "prev_hash",
  "hash",
] as const;

export const AUDIT_CSV_HEADER = `${AUDIT_EXPORT_COLUMNS.join(",")}\r\n`;

/**
 * A text cell that a verifier can turn back into the hashed value without guessing:
 *  - null → empty cell; "" → `""` (a quoted empty cell), so the two stay distinct;
 *  - a value starting with `'` or with a formula character (= + - @ tab CR) gets one
 *    leading `'` (escapeCsvCell adds it for formula starts; we add it for `'` starts),
 *    so "strip one leading `'`" undoes it exactly.
 * Everything else goes through escapeCsvCell (RFC 4180 quoting).
 */
function csvText(value: string | null): string {
  if (value === null) return "";
  if (value === "") return '""';
  // Fast path for the common cell (an email, an action, an IP) that needs neither a guard
  // nor quotes; anything else goes through escapeCsvCell. Same output either way.
  if (!PLAIN_START.test(value) || CSV_SPECIAL.test(value)) return escapeCsvCell(value.startsWith("'") ? `'${value}` : value);
  return value;
}
// A first character that is neither a formula start (= + - @ tab CR) nor the guard (').
const PLAIN_START = /^[^=+\-@\t\r']/;
const CSV_SPECIAL = /[",;\r\n]/;

/** One CSV record (CRLF-terminated) for an exported row. */
export function auditCsvLine(row: AuditExportRow): string {
  return [
    row.id,
    row.at,
    row.actor_id === null ? "" : String(row.actor_id),
    csvText(row.actor_email),
    csvText(row.action),
    csvText(row.target_type),
    csvText(row.target_id),
    // JSON text: null is `null`, never empty; a JSON value that starts with "-" (a negative
    // number) gets the formula guard like any other text.
    csvText(canonicalJson(row.before ?? null)),
    csvText(canonicalJson(row.after ?? null)),
    csvText(row.ip),
    csvText(row.user_agent),
    csvText(row.request_id),
    csvText(row.outcome),
    row.prev_hash,
    row.hash,
  ].join(",").concat("\r\n");
}

/**
 * One JSON Lines record: the same names as the CSV; `before`/`after` as JSON values.
 * Built by hand so the key order is fixed and no intermediate object is made per row;
 * canonicalJson escapes strings exactly as JSON.stringify does.
 */
export function auditJsonLine(row: AuditExportRow): string {
  const s = (value: string | null) => (value === null ? "null" : JSON.stringify(value));
  return `{"id":${Number(row.id)},"at":${s(row.at)},"actor_id":${row.actor_id ?? "null"},"actor_email":${s(row.actor_email)},"action":${s(row.action)},"target_type":${s(row.target_type)},"target_id":${s(row.target_id)},"before":${canonicalJson(row.before ?? null)},"after":${canonicalJson(row.after ?? null)},"ip":${s(row.ip)},"user_agent":${s(row.user_agent)},"request_id":${s(row.request_id)},"outcome":${s(row.outcome)},"prev_hash":${s(row.prev_hash)},"hash":${s(row.hash)}}\n`;
}
