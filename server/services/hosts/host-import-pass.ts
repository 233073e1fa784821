import { CsvLimitError, type CsvDelimiter, type CsvSource, type HostsCsvRow, parseHostsCsvBatches } from "../../domain/csv/hosts-csv";
import { DomainError } from "../../errors";
import { periodicYield } from "../event-loop";
import type { StatementQueue } from "../pg-copy";
import type { ImportResult } from "./host-import";
import {
  type BatchOutcome,
  classifyBatch,
  type ImportWriter,
  knownHostnames,
  knownHostnamesLimit,
  lookUpBatch,
} from "./host-import-batch";
import type { ImportProgress } from "./host-import-progress";

/** One pass over a file: parse, look up, classify and (for an apply) write, batch by batch. */

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

export type Limits = { maxRows: number; maxBytes: number; fileBytes: number | null };

export type Pass = {
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
 * checked. `progress` hears of each batch as it goes out and as it is written.
 */
export async function classifyFile(
  lookups: StatementQueue,
  writes: StatementQueue,
  content: CsvSource,
  delimiter: CsvDelimiter | "auto",
  limits: Limits,
  writer: ImportWriter | null,
  progress: ImportProgress | null,
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
    progress?.update({ phase: batchWriter ? "applying" : "validating", seen: summary.totalRows + summary.errorCount });
    const lookup = lookUpBatch(lookups, rows, known, batchWriter !== null);
    // Only awaited once the batch before is classified: if that fails first (or this lookup
    // fails before it is awaited, as when the database dies) its rejection must not go
    // unhandled, which would end the process. The failure still reaches the caller through
    // the batch before, or through `outcome`.
    lookup.catch(() => {});
    const outcome = classified.then(() => lookup).then((found) => classifyBatch(writes, rows, found, batchWriter));
    classified = outcome.then(count);
    const entry = classified
      .then(() => outcome)
      .then((o) => o.written)
      .then(() => {
        if (batchWriter) progress?.update({ applied: (progress?.rowsApplied ?? 0) + rows.length });
      });
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

