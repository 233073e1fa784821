import { createUser } from "../../server/services/users.service";
import { type AppServer, trpc } from "../support/app-server";
import type { BenchDatabase } from "./support";

/**
 * Small helpers shared by the artifact and metrics benchmarks: an operator with an API
 * token (what a script uses), a host, percentiles and the printed verdicts.
 */

type BenchApp = Pick<AppServer, "url" | "runtime" | "logs">;

/** The app's last error log line, to explain a failed setup call. */
const lastError = (app: BenchApp): string => {
  const line = [...app.logs].reverse().find((l) => /"level":(50|60)/.test(l));
  return line ? `\n  app log: ${line.trim().slice(0, 1500)}` : "";
};

const noRequest = { ip: null, userAgent: null, requestId: null };
export const BENCH_ACTOR = { id: null, email: "bench" };

/**
 * An operator created through the service, signed in over HTTP, holding an API token made
 * with `account.tokens.create`: the Bearer token a script would send.
 */
export async function benchOperatorToken(db: BenchDatabase, app: BenchApp): Promise<string> {
  const email = `bench-operator-${Date.now()}@bench.example`;
  const password = "bench-password-bench-password";
  await createUser(db.orm.em.fork(), app.runtime.config, BENCH_ACTOR, { email, role: "operator", password }, noRequest);
  const login = await trpc<{ status: string; accessToken: string }>(app.url, "auth.login", { mutation: true, input: { email, password } });
  if (login.data?.status !== "ok") throw new Error(`auth.login failed: ${login.status} ${login.error?.message ?? ""}${lastError(app)}`);
  const created = await trpc<{ token: string }>(app.url, "account.tokens.create", {
    mutation: true,
    token: login.data.accessToken,
    input: { name: "bench", expiresInDays: 1 },
  });
  if (!created.data?.token) throw new Error(`account.tokens.create failed: ${created.status} ${created.error?.message ?? ""}${lastError(app)}`);
  return created.data.token;
}

/** A host created over HTTP with the given token; returns its id. */
export async function benchHost(app: BenchApp, token: string, fields: Record<string, unknown>): Promise<number> {
  const res = await trpc<{ id: number }>(app.url, "hosts.create", { mutation: true, token, input: fields });
  if (!res.data?.id) throw new Error(`hosts.create failed: ${res.status} ${res.error?.message ?? ""}${lastError(app)}`);
  return res.data.id;
}

/** Nearest-rank percentile of unsorted samples (p in 0–100). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/**
 * RSS sampled every `intervalMs` from a baseline taken at start: peak and growth over the
 * baseline (the sampler itself allocates nothing worth counting).
 */
export function rssWatch(intervalMs = 50): { stop: () => { base: number; peak: number; growth: number; samples: number } } {
  const base = process.memoryUsage.rss();
  let peak = base;
  let samples = 1;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
    samples += 1;
  }, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      return { base, peak, growth: peak - base, samples };
    },
  };
}

export const MiB = 1024 * 1024;
export const mbps = (bytes: number, ms: number): string => `${(bytes / MiB / (ms / 1000)).toFixed(1)} MB/s`;
export const ms = (value: number): string => `${value.toFixed(2)} ms`;
export const ratio = (value: number): string => `${value.toFixed(2)}x`;
export const printLine = (label: string, value: string, width = 44): void => console.log(`  ${label.padEnd(width)} ${value}`);
/** "(target …: met)" or a loud TARGET MISSED; a missed target is reported, never thrown. */
export const verdict = (ok: boolean, target: string): string => (ok ? `(target ${target}: met)` : `<<< TARGET MISSED (target ${target}) >>>`);
