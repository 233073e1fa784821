import { createHash, randomUUID } from "node:crypto";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Config } from "../../config";
import { byteChunks, knownSize } from "../../domain/csv/byte-chunks";
import type { CsvDelimiter, CsvSource } from "../../domain/csv/hosts-csv";
import { formatBytes } from "../../domain/format-bytes";
import { DomainError } from "../../errors";
import type { Logger } from "../../logger";
import { type AuditActor, AuditBulkAppender, type AuditRequestInfo, recordAuditEvent } from "../audit.service";
import { StatementQueue, transactionConnection, withPooledConnection } from "../pg-copy";
import { getSettings } from "../settings.service";
import { query } from "../sql";
import type { ImportAction, ImportWriter } from "./host-import-batch";
import { classifyFile, type Limits, type Pass } from "./host-import-pass";
import { type ImportPhase, ImportProgress, RUNNING_PHASES } from "./host-import-progress";
import {
  claimStoredRun,
  finishApply,
  finishCheck,
  finishRejectedApply,
  insertRun,
  lockRunForApply,
  lockRunForCheck,
  markFailed,
  unlockRun,
} from "./host-import-runs";

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
  /**
   * The run's id: chosen by the caller (so it can follow the run's progress from anywhere
   * while the request runs), or a new one.
   */
  runId?: string;
  /** Set by applyImportRun: the run is a stored dry run, whose row the apply takes over. */
  storedRows?: number;
};

export type ImportHooks = {
  /** Called once the run's row says it is running (and its lock is held): its status can be read from then on. */
  onStarted?: () => void;
};

/**
 * CSV import. A dry run parses and classifies every row (create / update / unchanged)
 * and reports every error without writing a host; the run (file included) is kept a day
 * so it can be applied later by id. An apply runs the same pass inside one transaction,
 * writing each batch's hosts and their audit events (one per host) with binary COPY
 * while the next batch is parsed, and rolls everything back when any error turns up: a
 * file is applied whole or not at all. Either way the run's row shows its progress to
 * every instance while it runs (ADR 022).
 */
export async function importHosts(
  em: EntityManager,
  config: Config,
  actor: AuditActor & { id: number },
  input: ImportInput,
  request: AuditRequestInfo,
  hooks: ImportHooks = {},
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
  const run: RunContext = {
    em,
    config,
    actor,
    input,
    request,
    hooks,
    source: new HashingSource(input.content),
    limits: { maxRows: settings["import.maxRows"], maxBytes, fileBytes: size ?? input.declaredBytes ?? null },
    delimiter: input.delimiter ?? "auto",
    runId: input.runId ?? randomUUID(),
    progress: null,
  };
  run.progress = new ImportProgress(em, run.runId);
  return input.dryRun ? checkFile(run) : applyFile(run);
}

type RunContext = {
  em: EntityManager;
  config: Config;
  actor: AuditActor & { id: number };
  input: ImportInput;
  request: AuditRequestInfo;
  hooks: ImportHooks;
  source: HashingSource;
  limits: Limits;
  delimiter: CsvDelimiter | "auto";
  runId: string;
  progress: ImportProgress | null;
};

const resultOf = (run: RunContext, applied: boolean, pass: Pass): ImportResult => ({
  runId: run.runId,
  dryRun: run.input.dryRun,
  applied,
  ...pass.summary,
  sha256: run.source.sha256(),
  fileName: run.input.fileName ?? null,
});

/**
 * A dry run. Its lock is held on the pass's connection until its row says how it ended,
 * so no reader takes it for interrupted in between.
 */
async function checkFile(run: RunContext): Promise<ImportResult> {
  const { em, config, actor, input, runId } = run;
  return withPooledConnection(em, async (connection) => {
    await lockRunForCheck(connection, runId);
    try {
      await insertRun(em, { runId, userId: actor.id, dryRun: true, fileName: input.fileName ?? null, delimiter: run.delimiter });
      run.hooks.onStarted?.();
      try {
        const statements = new StatementQueue(connection);
        const pass = await classifyFile(statements, statements, run.source, run.delimiter, run.limits, null, run.progress);
        const result = resultOf(run, false, pass);
        await run.progress?.stop();
        await em.transactional(async (tx) => {
          await finishCheck(tx, result, run.source.keptBytes());
          await recordAuditEvent(tx, config.secret, {
            actor,
            action: "HOSTS_IMPORT_CHECKED",
            targetType: "import",
            targetId: runId,
            after: {
              fileName: input.fileName ?? null,
              sha256: result.sha256,
              created: result.created,
              updated: result.updated,
              unchanged: result.unchanged,
              errors: result.errorCount,
            },
            request: run.request,
          });
        });
        return result;
      } catch (error) {
        await run.progress?.stop();
        await markFailed(em, runId, error);
        throw error;
      }
    } finally {
      await unlockRun(connection, runId).catch(() => undefined);
    }
  });
}

/**
 * An apply: one transaction holding the run's lock. The run's row is written from outside
 * it (start, progress, and an end that rolls back); only a committed apply's end is
 * written inside, with the hosts.
 */
async function applyFile(run: RunContext): Promise<ImportResult> {
  const { em, config, actor, input, runId } = run;
  try {
    return await em.transactional(async (tx) => {
      await lockRunForApply(tx, runId);
      if (input.storedRows !== undefined) await claimStoredRun(em, runId, actor.id, input.storedRows);
      else await insertRun(em, { runId, userId: actor.id, dryRun: false, fileName: input.fileName ?? null, delimiter: run.delimiter });
      run.hooks.onStarted?.();
      try {
        const writer: ImportWriter = { config, actor, request: run.request, audit: await AuditBulkAppender.open(tx, config.secret) };
        const writes = new StatementQueue(await transactionConnection(tx));
        // Lookups run on a second connection, on the database's other core, so the
        // transaction's connection does nothing but write (ADR 014). They see only
        // committed hosts, which is all they need: the file has no duplicate hostnames, and
        // a host changed by someone else meanwhile makes the write fail as a CONFLICT.
        const pass = await withPooledConnection(em, (connection) =>
          classifyFile(new StatementQueue(connection), writes, run.source, run.delimiter, run.limits, writer, run.progress),
        );
        await run.progress?.stop();
        if (pass.summary.errorCount > 0) {
          const rejected = resultOf(run, false, pass);
          await finishRejectedApply(em, rejected);
          throw new RolledBack(rejected);
        }
        const result = resultOf(run, true, pass);
        await recordAuditEvent(tx, config.secret, {
          actor,
          action: "HOSTS_IMPORTED",
          targetType: "import",
          targetId: runId,
          after: {
            fileName: input.fileName ?? null,
            sha256: result.sha256,
            created: result.created,
            updated: result.updated,
            unchanged: result.unchanged,
            totalRows: result.totalRows,
          },
          request: run.request,
        });
        await finishApply(tx, result);
        return result;
      } catch (error) {
        if (!(error instanceof RolledBack)) {
          await run.progress?.stop();
          await markFailed(em, runId, error);
        }
        throw error;
      }
    });
  } catch (error) {
    if (error instanceof RolledBack) return error.result;
    throw error;
  }
}

/**
 * Applies a stored dry run by id (the same file, checked by its hash). A run whose apply
 * stopped without committing (errors, a lost database, a stopped instance) may be applied
 * again; the run's lock refuses a second apply while one is running anywhere.
 */
export async function applyImportRun(
  em: EntityManager,
  config: Config,
  actor: AuditActor & { id: number },
  runId: string,
  request: AuditRequestInfo,
  hooks: ImportHooks = {},
): Promise<ImportResult> {
  const [run] = await query<{
    content: Buffer | null;
    file_name: string | null;
    delimiter: string;
    applied_at: Date | null;
    dry_run: boolean;
    phase: ImportPhase;
    rows_seen: number;
    rows_total: number | null;
  }>(
    em,
    `select content, file_name, delimiter, applied_at, dry_run, phase, rows_seen, rows_total
     from import_runs where id = ? and user_id = ? and expires_at > now()`,
    [runId, actor.id],
  );
  if (!run) throw new DomainError("NOT_FOUND", "That import run has expired or is not yours. Upload the file again.");
  if (run.applied_at) throw new DomainError("CONFLICT", "That import was already applied.");
  if (run.dry_run && RUNNING_PHASES.includes(run.phase)) {
    throw new DomainError("CONFLICT", "That dry run has not finished yet. Wait for its result, then apply it.");
  }
  if (!run.content) {
    throw new DomainError(
      "PRECONDITION_FAILED",
      "That file was not kept with its run (only finished dry runs of files up to 8 MB are). Send it again with dryRun false (it is applied all or nothing).",
    );
  }
  return importHosts(
    em,
    config,
    actor,
    {
      content: run.content,
      fileName: run.file_name,
      delimiter: run.delimiter as CsvDelimiter | "auto",
      dryRun: false,
      runId,
      storedRows: run.dry_run ? run.rows_seen : (run.rows_total ?? run.rows_seen),
    },
    request,
    hooks,
  );
}

/**
 * Starts applying a stored dry run and returns once its row says it is running, leaving
 * the apply to finish on its own (the page then follows it through importStatus, with or
 * without JavaScript). What it ends with is in the run's row; an error after the start
 * is logged, never thrown at the caller who has already gone.
 */
export async function startImportRun(
  em: EntityManager,
  config: Config,
  actor: AuditActor & { id: number },
  runId: string,
  request: AuditRequestInfo,
  log: Logger,
): Promise<{ runId: string }> {
  let started!: () => void;
  const running = new Promise<void>((resolve) => {
    started = resolve;
  });
  const apply = applyImportRun(em.fork(), config, actor, runId, request, { onStarted: () => started() });
  apply.catch((error: unknown) => {
    if (!(error instanceof DomainError)) log.error({ err: error, runId }, "import apply failed after it started");
  });
  await Promise.race([running, apply]);
  return { runId };
}

/** A stored run's summary and errors (for the result page and the error report). */
export async function getImportRun(
  em: EntityManager,
  actorId: number,
  runId: string,
): Promise<{ summary: Omit<ImportResult, "runId" | "dryRun" | "applied" | "sha256" | "fileName">; errors: ImportError[]; fileName: string | null; appliedAt: string | null } | null> {
  const [run] = await em.execute<{ summary: ImportResult | null; errors: ImportError[] | null; file_name: string | null; applied_at: Date | null }[]>(
    "select summary, errors, file_name, applied_at from import_runs where id = ? and user_id = ? and expires_at > now()",
    [runId, actorId],
  );
  if (!run?.summary || !run.errors) return null;
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
