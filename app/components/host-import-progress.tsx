import { useRevalidator } from "@remix-run/react";
import { useEffect } from "react";

export type ImportProgressData = {
  runId: string;
  dryRun: boolean;
  phase: "parsing" | "validating" | "applying" | "done" | "failed";
  rowsSeen: number;
  rowsApplied: number;
  /** Known for the apply of a stored dry run (its row count). */
  rowsTotal: number | null;
  fileName: string | null;
};

/** How often the page asks again while a run goes on (its row changes at most every 250 ms). */
const POLL_MS = 1_000;
/** Without JavaScript the page reloads itself this often (seconds) until the run ends. */
const REFRESH_SECONDS = 2;

// Fixed locale: the server's and the browser's renderings must agree (hydration).
const count = (n: number) => n.toLocaleString("en-US");

/** "Applying: 1,234 of 5,000 rows": what the bar and the status line both say. */
export function progressLabel(progress: ImportProgressData): string {
  if (progress.dryRun) return `Checking: ${count(progress.rowsSeen)} rows read`;
  if (progress.rowsTotal !== null) return `Applying: ${count(progress.rowsApplied)} of ${count(progress.rowsTotal)} rows`;
  return `Applying: ${count(progress.rowsApplied)} rows`;
}

function phaseText(progress: ImportProgressData): string {
  if (progress.phase === "parsing") return "Starting: reading the file.";
  if (progress.phase === "validating") {
    return progress.dryRun
      ? "Checking every row against the hosts as they are; nothing is written."
      : "A row has an error: the remaining rows are checked, then nothing is written.";
  }
  return "Writing hosts and their audit events in one transaction: all rows or none.";
}

/**
 * A running import, as its row says (from any instance). With JavaScript the page's data
 * is revalidated every second; without it, a refresh in a <noscript> reloads the page every
 * two seconds (never with JavaScript, where the polling does that job) until the run has
 * ended and the page shows its result.
 */
export function HostImportProgress({ progress }: { progress: ImportProgressData }) {
  const { state, revalidate } = useRevalidator();
  useEffect(() => {
    if (state !== "idle") return;
    const timer = setTimeout(() => void revalidate(), POLL_MS);
    return () => clearTimeout(timer);
  }, [state, revalidate]);

  const label = progressLabel(progress);
  const determinate = !progress.dryRun && progress.rowsTotal !== null && progress.rowsTotal > 0;
  return (
    <section className="card mb-6" aria-labelledby="import-progress-heading" data-testid="import-progress">
      <noscript>
        <meta httpEquiv="refresh" content={String(REFRESH_SECONDS)} />
      </noscript>
      <h2 id="import-progress-heading" className="mb-1 text-lg font-semibold">
        {progress.dryRun ? "Dry run in progress" : "Applying the import"}
      </h2>
      <p className="mb-3 text-sm text-slate-600 dark:text-slate-400">
        {progress.fileName ? (
          <>
            File <span className="font-mono">{progress.fileName}</span>.{" "}
          </>
        ) : null}
        This page follows the run until it ends; leaving it does not stop the import.
      </p>
      {determinate ? (
        <progress className="w-full" max={progress.rowsTotal ?? 0} value={progress.rowsApplied} aria-label={label} />
      ) : (
        <progress className="w-full" aria-label={label} />
      )}
      <p role="status" className="mt-1 text-sm font-medium tabular-nums">
        {label}
      </p>
      <p className="mt-1 text-sm" data-testid="import-phase">
        {phaseText(progress)}
      </p>
    </section>
  );
}
