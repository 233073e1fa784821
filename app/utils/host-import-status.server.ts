import type { AppLoadContext } from "@remix-run/node";
import { TRPCError } from "@trpc/server";
import type { ImportProgressData } from "../components/host-import-progress";
import type { ImportRunData } from "../components/host-import-result";
import { callerFor, pageError } from "../trpc/caller.server";
import { isRunId, loadImportRun, rejectedApplyMessage } from "./host-import.server";

/**
 * What /hosts/import?run=<id> shows of a run, read through `hosts.importStatus` (so the
 * page sees what a script sees, from whichever instance runs the import): its progress
 * while it runs, else its stored result and what became of the last apply.
 */
export type ImportRunView =
  | { kind: "missing" }
  | { kind: "running"; progress: ImportProgressData }
  | {
      kind: "ended";
      /** The stored dry run (or applied import) with its counts, when the run has one. */
      run: ImportRunData | null;
      /** Why the last apply or check wrote nothing, when it did not finish. */
      notice: string | null;
      justApplied: boolean;
    };

const INTERRUPTED = "Interrupted, nothing was written: its server or the database went away before it finished.";
/** Which way to try again after an interruption, by what the run still has. */
const INTERRUPTED_NOTICES = {
  apply: `${INTERRUPTED} Apply again.`,
  resend: `${INTERRUPTED} Send the file again (it was not kept with the run).`,
  check: `${INTERRUPTED} Run the dry run again.`,
};

export async function loadImportRunView(
  request: Request,
  context: AppLoadContext,
  userId: number,
  runId: string,
  { justStarted }: { justStarted: boolean },
): Promise<ImportRunView> {
  if (!isRunId(runId)) return { kind: "missing" };
  const caller = await callerFor(request, context);
  let status: Awaited<ReturnType<typeof caller.hosts.importStatus>>;
  try {
    status = await caller.hosts.importStatus({ runId });
  } catch (error) {
    if (error instanceof TRPCError && error.code === "NOT_FOUND") return { kind: "missing" };
    pageError(error, request);
  }
  if (status.running) {
    return {
      kind: "running",
      progress: {
        runId,
        dryRun: status.dryRun,
        phase: status.phase,
        rowsSeen: status.rowsSeen,
        rowsApplied: status.rowsApplied,
        rowsTotal: status.rowsTotal,
        fileName: status.fileName,
      },
    };
  }
  const run = await loadImportRun(context, userId, runId);
  let notice: string | null = null;
  if (status.phase === "failed") {
    // A stored dry run whose apply failed keeps its file: the page offers the apply again.
    if (status.interrupted) notice = INTERRUPTED_NOTICES[status.dryRun ? "check" : run ? "apply" : "resend"];
    else notice = status.failure;
  } else if (justStarted && run && !run.appliedAt && run.errorCount > 0) {
    notice = rejectedApplyMessage(run);
  }
  if (!run && !notice) return { kind: "missing" };
  return { kind: "ended", run, notice, justApplied: justStarted && Boolean(run?.appliedAt) };
}
