import { createHash, randomUUID } from "node:crypto";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Config } from "../../config";
import { byteChunks, knownSize } from "../../domain/csv/byte-chunks";
import { formatBytes } from "../../domain/format-bytes";
import { CsvLimitError, type CsvDelimiter, type CsvSource, type HostsCsvRow, parseHostsCsvBatches } from "../../domain/csv/hosts-csv";
import { DomainError } from "../../errors";
import { type AuditActor, AuditBulkAppender, type AuditRequestInfo, recordAuditEvent } from "../audit.service";
import { StatementQueue, transactionConnection, withPooledConnection } from "../pg-copy";
import { periodicYield } from "../event-loop";
import { getSettings } from "../settings.service";
import { query } from "../sql";
import {
  type BatchOutcome,
  classifyBatch,
  type ImportAction,
  type ImportWriter,
  knownHostnames,
  knownHostnamesLimit,
  lookUpBatch,
} from "./host-import-batch";

export type ImportError = { line: number; column: string | null; message: string };
export type { ImportAction } from "./host-import-batch";
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

// Rows per batch and batches in flight at once (see classifyFile). An apply keeps
// PostgreSQL busy with large batches several deep, after a small first one that gets the
// database working without waiting for thousands of rows to be parsed; a dry run, whose
// lookups are cheap, keeps few rows in flight, which is what bounds its memory on a file
// of a million rows.
const APPLY_PIPELINE = { firstBatch: 100, batch: 4_000, depth: 4 };
const DRY_RUN_PIPELINE = { firstBatch: 1_000, batch: 1_000, depth: 2 };
// Rows parsed between turns of the event loop.
const ROWS_BETWEEN_YIELDS = 100;
const PREVIEW_ROWS = 500;
const MAX_ERRORS_RETURNED = 10_000;
const RUN_TTL_HOURS = 24;

export type ImportInput = {
  /**
   * The whole file (bytes, or text as a JSON body brings it), or a stream of it (an HTTP
   * body): a stream is read once, never held whole.
   */
  content: Buffer | string | AsyncIterable<Buffer>;
  /**
   * A stream's declared length (Content-Length), if any: only bounds how many stored
   * hostnames are read up front (knownHostnamesLimit), so a small upload does not read a
   * large fleet. The byte limit is enforced on what actually arrives.
   */
  declaredBytes?: number | null;
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
 * writing each batch's hosts and their audit events (one per host) with binary COPY
 * while the next batch is parsed, and rolls everything back when any error turns up: a
 * file is applied whole or not at all.
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
  const size = knownSize(input.content);
  if (size !== null && size > maxBytes) {
    throw new DomainError(
      "PAYLOAD_TOO_LARGE",
      `The file is ${formatBytes(size)}; the import limit is ${formatBytes(maxBytes)}. Split it into smaller files.`,
    );
  }
  const source = new HashingSource(input.content);
  const limits = { maxRows: settings["import.maxRows"], maxBytes, fileBytes: size ?? input.declaredBytes ?? null };
  const delimiter = input.delimiter ?? "auto";
  const runId = input.runId ?? randomUUID();
  const base = () => ({ runId, dryRun: input.dryRun, sha256: source.sha256(), fileName: input.fileName ?? null });

  if (input.dryRun) {
    const pass = await withPooledConnection(em, (connection) => {
      const statements = new StatementQueue(connection);
      return classifyFile(statements, statements, source, delimiter, limits, null);
    });
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
      const writer: ImportWriter = { config, actor, request, audit: await AuditBulkAppender.open(tx, config.secret) };
      const writes = new StatementQueue(await transactionConnection(tx));
      // Lookups run on a second connection, on the database's other core, so the
      // transaction's connection does nothing but write (ADR 014). They see only
      // committed hosts, which is all they need: the file has no duplicate hostnames, and
      // a host changed by someone else meanwhile makes the write fail as a CONFLICT.
      const pass = await withPooledConnection(em, (connection) =>
        classifyFile(new StatementQueue(connection), writes, source, delimiter, limits, writer),
      );
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

/**
 * Parses the file and hands its rows in batches to lookUpBatch (on `lookups`) and
 * classifyBatch (writing on `writes`; both may be one connection). Up to `depth` batches
 * are in flight at once (APPLY_PIPELINE, DRY_RUN_PIPELINE): while PostgreSQL looks up and
 * writes one, this loop parses the next. Batches are classified in file order (each waits
 * for the one before), so counts, preview and the audit chain follow the file. After the
 * first error nothing more is written (the apply will roll back) but every row is still
 * checked.
 */
async function classifyFile(
  lookups: StatementQueue,
  writes: StatementQueue,
  content: CsvSource,
  delimiter: CsvDelimiter | "auto",
  limits: { maxRows: number; maxBytes: number; fileBytes: number | null },
  writer: ImportWriter | null,
): Promise<Pass> {
  const known = await knownHostnames(lookups, knownHostnamesLimit(limits));
  const summary: Pass["summary"] = {
    created: 0,
    updated: 0,
    unchanged: 0,
    totalRows: 0,
    errors: [],
    errorCount: 0,
    preview: [],
  };
  const count = (outcome: BatchOutcome) => {
    for (const { row, action, changedFields } of outcome.actions) {
      if (action === "create") summary.created++;
      else if (action === "update") summary.updated++;
      else summary.unchanged++;
      if (summary.preview.length < PREVIEW_ROWS) {
        summary.preview.push({ line: row.line, hostname: row.fields.hostname, action, changedFields });
      }
    }
  };
  const pipeline = writer ? APPLY_PIPELINE : DRY_RUN_PIPELINE;
  let classified: Promise<unknown> = Promise.resolve();
  const inFlight: Promise<void>[] = [];
  let batch: HostsCsvRow[] = [];
  let batchSize = pipeline.firstBatch;
  const flush = async () => {
    if (batch.length === 0) return;
    batchSize = pipeline.batch;
    const rows = batch;
    batch = [];
    const batchWriter = summary.errorCount === 0 ? writer : null;
    const lookup = lookUpBatch(lookups, rows, known, batchWriter !== null);
    const outcome = classified.then(() => lookup).then((found) => classifyBatch(writes, rows, found, batchWriter));
    classified = outcome.then(count);
    const entry = classified.then(() => outcome).then((o) => o.written);
    entry.catch(() => {}); // awaited below, in order; a failure must not go unhandled meanwhile
    inFlight.push(entry);
    if (inFlight.length >= pipeline.depth) await inFlight.shift();
  };
  // Parsing never waits on I/O by itself; without a turn of the event loop now and then,
  // replies from PostgreSQL would wait, and so would the next statements.
  const pause = periodicYield(ROWS_BETWEEN_YIELDS);
  try {
    for await (const items of parseHostsCsvBatches(content, { delimiter, maxRows: limits.maxRows, maxBytes: limits.maxBytes })) {
      for (const item of items) {
        if (item.kind === "error") {
          summary.errorCount++;
          if (summary.errors.length < MAX_ERRORS_RETURNED) {
            summary.errors.push({ line: item.line, column: item.column, message: item.message });
          }
          continue;
        }
        summary.totalRows++;
        batch.push(item);
        if (batch.length >= batchSize) await flush();
        const turn = pause();
        if (turn) await turn;
      }
    }
    await flush();
    for (const pending of inFlight.splice(0)) await pending;
  } catch (error) {
    // Settle what is still queued before the transaction is rolled back.
    await Promise.allSettled(inFlight);
    if (error instanceof CsvLimitError) throw new DomainError("PAYLOAD_TOO_LARGE", error.message);
    throw error;
  }
  return { summary };
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

  constructor(private readonly content: CsvSource) {}

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for await (const chunk of byteChunks(this.content)) {
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
