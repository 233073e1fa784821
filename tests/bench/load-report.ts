import type { Result } from "autocannon";
import type { GroupResult } from "./load-mix";
import { percentile } from "./bench-utils";

/** Printing for the load benchmark: one table row per client group, verdicts as PASS/MISS. */

export const passMiss = (ok: boolean, target: string): string => (ok ? `PASS (target ${target})` : `MISS (target ${target})`);

/**
 * Successful (2xx) answers per second. Not all answers: a proxy with no instance left
 * answers 503 in microseconds, and counting those would reward falling over.
 */
export const reqPerSecond = (r: Result): number => r["2xx"] / r.duration;

/** Requests that did not succeed: non-2xx answers, connection errors (timeouts included), mismatches. */
export const failures = (r: Result): number => r.non2xx + r.errors + r.mismatches;

const COLUMNS = ["conns", "2xx/s", "p50 ms", "p99 ms", "max ms", "non-2xx", "errors", "timeouts"];

export function printHeader(width: number): void {
  console.log(`  ${"".padEnd(width)} ${COLUMNS.map((c) => c.padStart(8)).join(" ")}`);
}

export function printRow(label: string, width: number, r: Result): void {
  const cells = [
    String(r.connections),
    reqPerSecond(r).toFixed(1),
    r.latency.p50.toFixed(0),
    r.latency.p99.toFixed(0),
    r.latency.max.toFixed(0),
    String(r.non2xx),
    String(r.errors),
    String(r.timeouts),
  ];
  console.log(`  ${label.padEnd(width)} ${cells.map((c) => c.padStart(8)).join(" ")}`);
}

/** Status codes other than 200 and the connection errors autocannon saw, e.g. "503 x12, ECONNRESET x3". */
export function unexpectedAnswers(r: GroupResult): string {
  const codes = Object.entries(r.statusCodeStats)
    .filter(([code]) => code !== "200")
    .map(([code, { count }]) => `${code} x${count}`);
  const errors = Object.entries(r.errorMessages).map(([name, count]) => `${name} x${count}`);
  return [...codes, ...errors].join(", ");
}

export function latencySummary(samples: number[]): string {
  if (samples.length === 0) return "no samples";
  return `p50 ${percentile(samples, 50).toFixed(0)} ms, p99 ${percentile(samples, 99).toFixed(0)} ms, max ${Math.max(...samples).toFixed(0)} ms`;
}

/** The last warning or error lines an instance logged (no secrets: the app never logs them). */
export function lastProblems(output: string, count = 8): string[] {
  return output
    .split("\n")
    .filter((l) => /"level":(40|50|60)/.test(l) || /error/i.test(l))
    .slice(-count)
    .map((l) => l.slice(0, 400));
}

export const mib = (bytes: number): string => (Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(0)} MiB` : "n/a");
