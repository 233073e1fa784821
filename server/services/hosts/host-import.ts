import { createHash, randomUUID } from "node:crypto";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Config } from "../../config";
import { CsvLimitError, type CsvDelimiter, type CsvSource, type HostsCsvRow, parseHostsCsv } from "../../domain/csv/hosts-csv";
import type { HostFields } from "../../domain/hosts/host-fields";
import { DomainError } from "../../errors";
import { type AuditActor, type AuditEventInput, type AuditRequestInfo, recordAuditEvent, recordAuditEvents } from "../audit.service";
import { getSettings } from "../settings.service";
import { query } from "../sql";
import { AUDITED_FIELDS, type AuditedField, fieldChanges } from "./host-view";
import { type HostRow, rowToHost } from "./host-list";

export type ImportError = { line: number; column: string | null; message: string };
export type ImportAction = "create" | "update" | "unchanged";
export type ImportPreviewRow = { line: number; hostname: string; action: ImportAction; changedFields: string[] };

export type ImportResult = {
  runId: string;
  dryRun: boolean;
  /** True only when the changes were written (an apply with no errors). */
  applied: boolean;
  created: number;
  updated: number;
  unchanged: number;
  totalRows: number;
  errors: ImportError[];
  /** All errors found; `errors` holds at most MAX_ERRORS_RETURNED of them. */
  errorCount: number;
  /** What would happen (dry run) or happened (apply) to the first rows. */
  preview: ImportPreviewRow[];
  sha256: string;
  fileName: string | null;
};

const BATCH = 1_000;
const PREVIEW_ROWS = 500;
const MAX_ERRORS_RETURNED = 10_000;
const RUN_TTL_HOURS = 24;

export type ImportInput = {
  /** The whole file, or a stream of it (an HTTP body): a stream is read once, never held whole. */
  content: Buffer | AsyncIterable<Buffer>;
  fileName?: string | null;
  delimiter?: CsvDelimiter | "auto";
  dryRun: boolean;
  /** Set when applying a stored dry run, so the audit event names that run. */
  runId?: string;
};

/**
 * CSV import. A dry run parses and classifies every row (create / update / unchanged)
 * and reports every error without writing a host; the run (file included) is kept a day
 * so it can be applied later by id. An apply runs the same pass inside one transaction,
 * writing in batches of 1,000 with one audit event per host, and rolls everything back
 * when any error turns up: a file is applied whole or not at all.
 */
export async function importHosts(
  em: EntityManager,
  config: Config,
  actor: AuditActor & { id: number },
  input: ImportInput,
  request: AuditRequestInfo,
): Promise<ImportResult> {
  const settings = await getSettings(em, config);
  const maxBytes = settings["import.maxBytes"];
  if (Buffer.isBuffer(input.content) && input.content.length > maxBytes) {
    throw new DomainError(
      "PAYLOAD_TOO_LARGE",
      `The file is ${formatMb(input.content.length)}; the import limit is ${formatMb(maxBytes)}. Split it into smaller files.`,
    );
  }
  const source = new HashingSource(input.content);
  const delimiter = input.delimiter ?? "auto";
  const runId = input.runId ?? randomUUID();
  const base = () => ({ runId, dryRun: input.dryRun, sha256: source.sha256(), fileName: input.fileName ?? null });

  if (input.dryRun) {
    const pass = await classifyFile(em, source, delimiter, settings["import.maxRows"], maxBytes, null);
    const sha256 = source.sha256();
    await em.transactional(async (tx) => {
      await saveRun(tx, actor.id, runId, input, source.keptBytes(), sha256, delimiter, pass);
      await recordAuditEvent(tx, config.secret, {
        actor,
        action: "HOSTS_IMPORT_CHECKED",
        targetType: "import",
        targetId: runId,
        after: {
          fileName: input.fileName ?? null,
          sha256,
          created: pass.summary.created,
          updated: pass.summary.updated,
          unchanged: pass.summary.unchanged,
          errors: pass.summary.errorCount,
        },
        request,
      });
    });
    return { ...base(), applied: false, ...pass.summary };
  }

  try {
    return await em.transactional(async (tx) => {
      const pass = await classifyFile(tx, source, delimiter, settings["import.maxRows"], maxBytes, {
        config,
        actor,
        request,
      });
      if (pass.summary.errorCount > 0) throw new RolledBack({ ...base(), applied: false, ...pass.summary });
      await recordAuditEvent(tx, config.secret, {
        actor,
        action: "HOSTS_IMPORTED",
        targetType: "import",
        targetId: runId,
        after: {
          fileName: input.fileName ?? null,
          sha256: source.sha256(),
          created: pass.summary.created,
          updated: pass.summary.updated,
          unchanged: pass.summary.unchanged,
          totalRows: pass.summary.totalRows,
        },
        request,
      });
      return { ...base(), applied: true, ...pass.summary };
    });
  } catch (error) {
    if (error instanceof RolledBack) return error.result;
    throw error;
  }
}

/** Applies a stored dry run by id (the same file, checked by its hash). */
export async function applyImportRun(
  em: EntityManager,
  config: Config,
  actor: AuditActor & { id: number },
  runId: string,
  request: AuditRequestInfo,
): Promise<ImportResult> {
  const [run] = await query<{ content: Buffer | null; file_name: string | null; delimiter: string; applied_at: Date | null }>(
    em,
    "select content, file_name, delimiter, applied_at from import_runs where id = ? and user_id = ? and expires_at > now()",
    [runId, actor.id],
  );
  if (!run) throw new DomainError("NOT_FOUND", "That import run has expired or is not yours. Upload the file again.");
  if (run.applied_at) throw new DomainError("CONFLICT", "That import was already applied.");
  if (!run.content) {
    throw new DomainError(
      "PRECONDITION_FAILED",
      "That file was too large to keep for a later apply. Send it again with dryRun false (it is applied all or nothing).",
    );
  }
  const result = await importHosts(
    em,
    config,
    actor,
    { content: run.content, fileName: run.file_name, delimiter: run.delimiter as CsvDelimiter | "auto", dryRun: false, runId },
    request,
  );
  if (result.applied) await em.execute("update import_runs set applied_at = now() where id = ?", [runId]);
  return result;
}

/** A stored run's summary and errors (for the result page and the error report). */
export async function getImportRun(
  em: EntityManager,
  actorId: number,
  runId: string,
): Promise<{ summary: Omit<ImportResult, "runId" | "dryRun" | "applied" | "sha256" | "fileName">; errors: ImportError[]; fileName: string | null; appliedAt: string | null } | null> {
  const [run] = await em.execute<{ summary: ImportResult; errors: ImportError[]; file_name: string | null; applied_at: Date | null }[]>(
    "select summary, errors, file_name, applied_at from import_runs where id = ? and user_id = ? and expires_at > now()",
    [runId, actorId],
  );
  if (!run) return null;
  return {
    summary: run.summary,
    errors: run.errors,
    fileName: run.file_name,
    appliedAt: run.applied_at ? new Date(run.applied_at).toISOString() : null,
  };
}

class RolledBack extends Error {
  constructor(readonly result: ImportResult) {
    super("import rolled back");
  }
}

type Pass = {
  summary: Pick<
    ImportResult,
    "created" | "updated" | "unchanged" | "totalRows" | "errors" | "errorCount" | "preview"
  >;
};

type Writer = { config: Config; actor: AuditActor & { id: number }; request: AuditRequestInfo };

async function classifyFile(
  em: EntityManager,
  content: CsvSource,
  delimiter: CsvDelimiter | "auto",
  maxRows: number,
  maxBytes: number,
  writer: Writer | null,
): Promise<Pass> {
  const summary: Pass["summary"] = {
    created: 0,
    updated: 0,
    unchanged: 0,
    totalRows: 0,
    errors: [],
    errorCount: 0,
    preview: [],
  };
  let batch: HostsCsvRow[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await processBatch(em, batch, summary, summary.errorCount === 0 ? writer : null);
    batch = [];
  };
  try {
    for await (const item of parseHostsCsv(content, { delimiter, maxRows, maxBytes })) {
      if (item.kind === "error") {
        summary.errorCount++;
        if (summary.errors.length < MAX_ERRORS_RETURNED) {
          summary.errors.push({ line: item.line, column: item.column, message: item.message });
        }
        continue;
      }
      summary.totalRows++;
      batch.push(item);
      if (batch.length >= BATCH) await flush();
    }
    await flush();
  } catch (error) {
    if (error instanceof CsvLimitError) throw new DomainError("PAYLOAD_TOO_LARGE", error.message);
    throw error;
  }
  return { summary };
}

async function processBatch(em: EntityManager, rows: HostsCsvRow[], summary: Pass["summary"], writer: Writer | null) {
  const existing = new Map<string, HostRow>();
  // Arrays travel as JSON: knex would expand a bound array into a list of parameters.
  const found = await query<HostRow>(
    em,
    "select * from hosts where hostname in (select jsonb_array_elements_text(?::jsonb))",
    [JSON.stringify(rows.map((r) => r.fields.hostname))],
  );
  for (const row of found) existing.set(row.hostname, row);

  const creates: HostFields[] = [];
  const updates: { id: number; fields: HostFields; before: Record<string, unknown>; after: Record<string, unknown> }[] = [];
  for (const row of rows) {
    const current = existing.get(row.fields.hostname);
    let action: ImportAction;
    let changedFields: string[] = [];
    if (!current) {
      action = "create";
      summary.created++;
      creates.push(row.fields);
    } else {
      const stored = rowToHost(current) as unknown as Record<AuditedField, unknown>;
      const merged = { ...row.fields } as Record<string, unknown>;
      for (const field of AUDITED_FIELDS) {
        if (!row.presentFields.includes(field)) merged[field] = stored[field];
      }
      const changes = fieldChanges(stored, merged as Partial<Record<AuditedField, unknown>>);
      if (changes) {
        action = "update";
        changedFields = Object.keys(changes.after);
        summary.updated++;
        updates.push({ id: current.id, fields: merged as HostFields, ...changes });
      } else {
        action = "unchanged";
        summary.unchanged++;
      }
    }
    if (summary.preview.length < PREVIEW_ROWS) {
      summary.preview.push({ line: row.line, hostname: row.fields.hostname, action, changedFields });
    }
  }
  if (writer) await writeBatch(em, writer, creates, updates);
}

/**
 * Rows go to PostgreSQL as one JSON document per batch, expanded by jsonb_to_recordset:
 * one statement for 1,000 hosts, and no parameter-count limits.
 */
const RECORDSET = `jsonb_to_recordset(?::jsonb) as u(hostname text, ip text, port int, ssh_user text, bastion text,
  ssh_template text, environment text, os text, tags jsonb, prometheus_instance text, notes text)`;
const TAGS_FROM_JSON = "coalesce(array(select jsonb_array_elements_text(u.tags)), '{}')";

function recordset(rows: HostFields[]): string {
  return JSON.stringify(
    rows.map((r) => ({
      hostname: r.hostname,
      ip: r.ip,
      port: r.port,
      ssh_user: r.sshUser,
      bastion: r.bastion,
      ssh_template: r.sshTemplate,
      environment: r.environment,
      os: r.os,
      tags: r.tags,
      prometheus_instance: r.prometheusInstance,
      notes: r.notes,
    })),
  );
}

async function writeBatch(
  em: EntityManager,
  writer: Writer,
  creates: HostFields[],
  updates: { id: number; fields: HostFields; before: Record<string, unknown>; after: Record<string, unknown> }[],
) {
  const events: AuditEventInput[] = [];
  if (creates.length) {
    const inserted = await query<{ id: number; hostname: string }>(
      em,
      `insert into hosts (hostname, ip, port, ssh_user, bastion, ssh_template, environment, os, tags, prometheus_instance, notes, created_by, updated_by)
       select u.hostname, u.ip, u.port, u.ssh_user, u.bastion, u.ssh_template, u.environment, u.os, ${TAGS_FROM_JSON},
              u.prometheus_instance, u.notes, ?, ?
       from ${RECORDSET} returning id, hostname`,
      [writer.actor.id, writer.actor.id, recordset(creates)],
    );
    const byName = new Map(creates.map((c) => [c.hostname, c]));
    for (const row of inserted) {
      const fields = byName.get(row.hostname)!;
      events.push({
        actor: writer.actor,
        action: "HOST_CREATED",
        targetType: "host",
        targetId: row.id,
        after: Object.fromEntries(AUDITED_FIELDS.map((f) => [f, fields[f]])),
        request: writer.request,
      });
    }
  }
  if (updates.length) {
    await query(
      em,
      `update hosts h set ip = u.ip, port = u.port, ssh_user = u.ssh_user, bastion = u.bastion, ssh_template = u.ssh_template,
              environment = u.environment, os = u.os, tags = ${TAGS_FROM_JSON}, prometheus_instance = u.prometheus_instance,
              notes = u.notes, version = h.version + 1, updated_at = now(), updated_by = ?
       from ${RECORDSET} where h.hostname = u.hostname`,
      [writer.actor.id, recordset(updates.map((u) => u.fields))],
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
  await recordAuditEvents(em, writer.config.secret, events);
}

async function saveRun(
  em: EntityManager,
  userId: number,
  runId: string,
  input: ImportInput,
  content: Buffer | null,
  sha256: string,
  delimiter: string,
  pass: Pass,
) {
  const { errors, ...summary } = pass.summary;
  await query(
    em,
    `insert into import_runs (id, user_id, expires_at, file_name, sha256, delimiter, content, summary, errors)
     values (?, ?, now() + make_interval(hours => ?), ?, ?, ?, ?, ?::jsonb, ?::jsonb)`,
    [runId, userId, RUN_TTL_HOURS, input.fileName ?? null, sha256, delimiter, content, JSON.stringify(summary), JSON.stringify(errors)],
  );
}

/**
 * Files up to this size are kept with a dry run so it can be applied later by id; larger
 * ones are applied by sending them again with dryRun false (all or nothing either way).
 */
const KEEP_FOR_APPLY_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Hands the file to the parser chunk by chunk, hashing on the way, and keeps the bytes
 * only while they are small enough to store with the run: a large streamed file is read
 * once and never held whole.
 */
class HashingSource implements AsyncIterable<Buffer> {
  private readonly hash = createHash("sha256");
  private digest: string | null = null;
  private kept: Buffer[] | null = [];
  private keptSize = 0;

  constructor(private readonly content: Buffer | AsyncIterable<Buffer>) {}

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const chunks: AsyncIterable<Buffer> | Buffer[] = Buffer.isBuffer(this.content) ? [this.content] : this.content;
    for await (const chunk of chunks) {
      this.hash.update(chunk);
      if (this.kept) {
        this.keptSize += chunk.length;
        if (this.keptSize > KEEP_FOR_APPLY_MAX_BYTES) this.kept = null;
        else this.kept.push(chunk);
      }
      yield chunk;
    }
    this.digest = this.hash.digest("hex");
  }

  /** The file's hash (of what was read, if the parser stopped early on a header error). */
  sha256(): string {
    return this.digest ?? this.hash.copy().digest("hex");
  }

  keptBytes(): Buffer | null {
    return this.kept ? Buffer.concat(this.kept) : null;
  }
}

function formatMb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
