import type { EntityManager } from "@mikro-orm/postgresql";
import type pg from "pg";
import { DomainError, isDatabaseUnavailable } from "../../errors";
import { query } from "../sql";
import type { ImportError, ImportResult } from "./host-import";
import { boundedWait, type ImportPhase, outsideTransaction, RUNNING_PHASES } from "./host-import-progress";

/**
 * An import run's row from start to end (ADR 011, 022). A run has its row from the moment
 * it starts: a dry run inserts it, an apply of a file sent whole inserts it, an apply of a
 * stored dry run claims the dry run's row. Its end is written with the run's own outcome:
 * inside the apply's transaction when it commits, from outside before it rolls back.
 *
 * Whether a run is still going is the advisory lock (IMPORT_RUN_LOCK, the run id's hash)
 * held while it runs: transaction-scoped for an apply, session-scoped on the dry run's
 * connection. PostgreSQL releases it when the transaction ends or its connection dies,
 * so a run whose row says "running" while nobody holds its lock was interrupted (its
 * instance or the database went away) and, being uncommitted, wrote nothing.
 */

export const IMPORT_RUN_LOCK = 727_300;
const RUN_TTL_HOURS = 24;

export const INTERRUPTED_MESSAGE =
  "The import stopped before it finished: its server or the database went away. Nothing of it was written; run it again.";

type Summary = Omit<ImportResult, "runId" | "dryRun" | "applied" | "sha256" | "fileName" | "errors">;

/** Takes the run's lock for an apply, in its transaction: one apply of a run at a time, on any instance. */
export async function lockRunForApply(tx: EntityManager, runId: string): Promise<void> {
  const [row] = await query<{ locked: boolean }>(tx, `select pg_try_advisory_xact_lock(${IMPORT_RUN_LOCK}, hashtext(?)) as locked`, [runId]);
  if (!row?.locked) throw new DomainError("CONFLICT", "This import is being applied right now. Wait for it to finish.");
}

/** Takes the run's lock for a dry run on its connection (released by `unlockRun`, or with the connection). */
export async function lockRunForCheck(connection: pg.Client, runId: string): Promise<void> {
  const { rows } = await connection.query<{ locked: boolean }>(`select pg_try_advisory_lock(${IMPORT_RUN_LOCK}, hashtext($1)) as locked`, [runId]);
  if (!rows[0]?.locked) throw new DomainError("CONFLICT", "An import with this run id is running right now.");
}

export async function unlockRun(connection: pg.Client, runId: string): Promise<void> {
  await connection.query(`select pg_advisory_unlock(${IMPORT_RUN_LOCK}, hashtext($1))`, [runId]);
}

/** The row of a run that starts now (a dry run, or an apply of a file sent whole). */
export async function insertRun(
  em: EntityManager,
  run: { runId: string; userId: number; dryRun: boolean; fileName: string | null; delimiter: string },
): Promise<void> {
  try {
    await outsideTransaction(
      em,
      `insert into import_runs (id, user_id, expires_at, file_name, delimiter, dry_run, phase)
       values (?, ?, now() + make_interval(hours => ?), ?, ?, ?, 'parsing')`,
      [run.runId, run.userId, RUN_TTL_HOURS, run.fileName, run.delimiter, run.dryRun],
    );
  } catch (error) {
    if ((error as { code?: string }).code === "23505") {
      throw new DomainError("CONFLICT", "An import run with this id exists already. Choose another run id.");
    }
    throw error;
  }
}

/**
 * A stored dry run's row, taken over by its apply (under the run's lock). Kept at least an
 * hour longer, so the cleanup cannot remove it while it runs.
 */
export async function claimStoredRun(em: EntityManager, runId: string, userId: number, rowsTotal: number): Promise<void> {
  const claimed = await outsideTransaction(
    em,
    `update import_runs set dry_run = false, phase = 'parsing', rows_seen = 0, rows_applied = 0, rows_total = ?,
       failure = null, updated_at = clock_timestamp(), expires_at = greatest(expires_at, now() + interval '1 hour')
     where id = ? and user_id = ? and applied_at is null and expires_at > now()
     returning id`,
    [rowsTotal, runId, userId],
  );
  if (claimed.length === 0) throw new DomainError("CONFLICT", "That import was already applied.");
}

function summaryOf(result: ImportResult): { summary: string; errors: string } {
  const { errors, runId: _r, dryRun: _d, applied: _a, sha256: _s, fileName: _f, ...summary } = result;
  return { summary: JSON.stringify(summary), errors: JSON.stringify(errors) };
}

/** A dry run's end, in the transaction that audits it: its summary, errors and (small) file. */
export async function finishCheck(tx: EntityManager, result: ImportResult, content: Buffer | null): Promise<void> {
  const { summary, errors } = summaryOf(result);
  await query(
    tx,
    `update import_runs set phase = 'done', sha256 = ?, content = ?, summary = ?::jsonb, errors = ?::jsonb,
       rows_seen = ?, updated_at = clock_timestamp()
     where id = ?`,
    [result.sha256, content, summary, errors, result.totalRows + result.errorCount, result.runId],
  );
}

/** An apply's end, in its own transaction: committed with the hosts, or not at all. */
export async function finishApply(tx: EntityManager, result: ImportResult): Promise<void> {
  const { summary, errors } = summaryOf(result);
  await query(
    tx,
    `update import_runs set phase = 'done', dry_run = false, applied_at = now(), sha256 = ?, summary = ?::jsonb,
       errors = ?::jsonb, rows_seen = ?, rows_applied = ?, updated_at = clock_timestamp()
     where id = ?`,
    [result.sha256, summary, errors, result.totalRows + result.errorCount, result.totalRows, result.runId],
  );
}

/**
 * An apply that found errors: its result (nothing applied, the errors) written from
 * outside while its transaction, about to roll back, still holds the run's lock, so no
 * reader ever sees the run as interrupted. The dry run's file stays for another try.
 */
export async function finishRejectedApply(em: EntityManager, result: ImportResult): Promise<void> {
  const { summary, errors } = summaryOf(result);
  await boundedWait(
    outsideTransaction(
      em,
      `update import_runs set phase = 'done', sha256 = coalesce(sha256, ?), summary = ?::jsonb, errors = ?::jsonb,
         rows_seen = ?, rows_applied = 0, updated_at = clock_timestamp()
       where id = ?`,
      [result.sha256, summary, errors, result.totalRows + result.errorCount, result.runId],
    ),
  );
}

/**
 * A run that ended on an error, marked so (best effort, bounded in time: when the database
 * itself is gone this cannot be written, and the released lock tells the same).
 */
export async function markFailed(em: EntityManager, runId: string, error: unknown): Promise<void> {
  await boundedWait(
    outsideTransaction(
      em,
      `update import_runs set phase = 'failed', failure = ?, rows_applied = 0, updated_at = clock_timestamp()
       where id = ? and phase in ('parsing', 'validating', 'applying')`,
      [failureMessage(error), runId],
    ),
  ).catch(() => undefined);
}

/** What a person is told about a run that ended on an error (never the driver's text). */
export function failureMessage(error: unknown): string {
  if (error instanceof DomainError) return error.message;
  if (isDatabaseUnavailable(error)) {
    return "The connection to the database was lost during the import. Nothing of it was written; run it again.";
  }
  return "The import stopped on an unexpected server error. Nothing of it was written; run it again.";
}

export type ImportStatus = {
  runId: string;
  /** A dry run (checks only), or an apply. */
  dryRun: boolean;
  phase: ImportPhase;
  running: boolean;
  /**
   * The row says it runs but nobody holds its lock: its instance or the database went away
   * before it ended, so nothing of it was written (reported with phase "failed").
   */
  interrupted: boolean;
  /** Data rows read so far (valid or not). */
  rowsSeen: number;
  /** Rows whose hosts and audit events are written (in the apply's open transaction until it commits). */
  rowsApplied: number;
  /** How many data rows the file has, when known (an apply of a stored dry run). */
  rowsTotal: number | null;
  updatedAt: string;
  fileName: string | null;
  /** Why a failed run failed. */
  failure: string | null;
  /** The result the import procedures answer, once the run is done. */
  result: ImportResult | null;
};

type StatusRow = {
  dry_run: boolean;
  phase: ImportPhase;
  rows_seen: number;
  rows_applied: number;
  rows_total: number | null;
  /** Text, as MikroORM has pg return timestamptz (compared exactly, to the microsecond). */
  updated_at: string;
  file_name: string | null;
  failure: string | null;
  applied_at: Date | null;
  sha256: string | null;
  summary: Summary | null;
  errors: ImportError[] | null;
};

async function readStatusRow(em: EntityManager, userId: number, runId: string): Promise<StatusRow | undefined> {
  // The summary and errors (up to 10,000) only once they are the run's result.
  const [row] = await query<StatusRow>(
    em,
    `select dry_run, phase, rows_seen, rows_applied, rows_total, updated_at, file_name, failure, applied_at, sha256,
       case when phase = 'done' then summary end as summary, case when phase = 'done' then errors end as errors
     from import_runs where id = ? and user_id = ? and expires_at > now()`,
    [runId, userId],
  );
  return row;
}

async function runLockHeld(em: EntityManager, runId: string): Promise<boolean> {
  const [row] = await query<{ held: boolean }>(
    em,
    `select exists (
       select 1 from pg_locks
       where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())
         and classid = ${IMPORT_RUN_LOCK} and objid = hashtext(?)::oid and objsubid = 2
     ) as held`,
    [runId],
  );
  return row?.held ?? false;
}

/**
 * A run's phase, counts and (when done) result, for its owner, from any instance: null
 * when it expired, never existed or is someone else's. A run whose row says it is
 * running while its lock is free was interrupted; the row is read again after the lock,
 * so a run that ended in between is reported as it ended.
 */
export async function readImportStatus(em: EntityManager, userId: number, runId: string): Promise<ImportStatus | null> {
  let row = await readStatusRow(em, userId, runId);
  if (!row) return null;
  let interrupted = false;
  if (RUNNING_PHASES.includes(row.phase) && !(await runLockHeld(em, runId))) {
    const again = await readStatusRow(em, userId, runId);
    if (!again) return null;
    interrupted =
      RUNNING_PHASES.includes(again.phase) && again.updated_at === row.updated_at && again.rows_seen === row.rows_seen;
    row = again;
  }
  const phase: ImportPhase = interrupted ? "failed" : row.phase;
  const applied = row.applied_at !== null && !row.dry_run;
  return {
    runId,
    dryRun: row.dry_run,
    phase,
    running: RUNNING_PHASES.includes(phase),
    interrupted,
    rowsSeen: row.rows_seen,
    rowsApplied: interrupted ? 0 : row.rows_applied,
    rowsTotal: row.rows_total,
    updatedAt: new Date(row.updated_at).toISOString(),
    fileName: row.file_name,
    failure: interrupted ? INTERRUPTED_MESSAGE : row.failure,
    result:
      phase === "done" && row.summary && row.errors
        ? { runId, dryRun: row.dry_run, applied, ...row.summary, errors: row.errors, sha256: row.sha256 ?? "", fileName: row.file_name }
        : null,
  };
}
