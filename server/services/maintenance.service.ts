import { hostname } from "node:os";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Logger } from "../logger";
import { processFileDeletions, sweepOrphanFiles } from "./artifacts/artifacts.service";
import type { ArtifactStorage } from "./artifacts/storage";

const CLEANUP_LOCK = 727_100; // advisory-lock key: one cleaner at a time across instances

export type CleanupResult =
  | { ran: false }
  | {
      ran: true;
      snapshots: number;
      rateLimitBuckets: number;
      importRuns: number;
      sessions: number;
      lockedDeviceTokens: number;
      artifactFilesRemoved: number;
      orphanFilesRemoved: number;
    };

/**
 * Deletes what has expired: metrics snapshots past their TTL, rate-limit buckets, stored
 * import runs, sessions (with their refresh tokens) a week past expiry, locked device
 * tokens past their expiry, queued artifact
 * file removals and orphaned artifact files (interrupted uploads). Every app
 * instance runs this on a timer; a transaction-scoped advisory lock makes exactly one of
 * them do the work at a time, the others return `{ ran: false }` at once. With `round`
 * (the timer's wall-clock boundary), the round is also claimed in `maintenance_rounds`:
 * an instance that gets the lock after another finished the same round skips it too, so
 * the cluster cleans up once per interval however many instances it has (ADR 020).
 */
export async function runCleanup(
  em: EntityManager,
  options: { storage?: ArtifactStorage; whileLocked?: () => Promise<void>; round?: { at: Date; by: string } } = {},
): Promise<CleanupResult> {
  return em.transactional(async (tx) => {
    const [lock] = await tx.execute<{ locked: boolean }[]>("select pg_try_advisory_xact_lock(?) as locked", [CLEANUP_LOCK]);
    if (!lock?.locked) return { ran: false };
    if (options.round && !(await claimRound(tx, "cleanup", options.round))) return { ran: false };
    await options.whileLocked?.();
    const count = async (sql: string) => Number((await tx.execute<{ n: string }[]>(`with d as (${sql} returning 1) select count(*) as n from d`))[0]?.n ?? 0);
    return {
      ran: true,
      snapshots: await count("delete from metrics_snapshots where expires_at <= now()"),
      rateLimitBuckets: await count("delete from rate_limit_buckets where expires_at <= now()"),
      importRuns: await count("delete from import_runs where expires_at <= now()"),
      sessions: await count("delete from sessions where expires_at <= now() - interval '7 days'"),
      // A locked device token past its own expiry is refused as expired anyway (ADR 019).
      lockedDeviceTokens: await count("delete from locked_device_tokens where expires_at <= now()"),
      artifactFilesRemoved: options.storage ? await processFileDeletions(tx, options.storage) : 0,
      orphanFilesRemoved: options.storage ? await sweepOrphanFiles(tx, options.storage) : 0,
    };
  });
}

/**
 * Moves the job's last round forward to `round.at` unless some instance already ran that
 * round (or a later one). Inside the cleanup's transaction: a round that fails is rolled
 * back with its claim and the next round does the work.
 */
async function claimRound(tx: EntityManager, job: string, round: { at: Date; by: string }): Promise<boolean> {
  const claimed = await tx.execute<{ job: string }[]>(
    `insert into maintenance_rounds (job, round_at, ran_by, ran_at) values (?, ?, ?, now())
     on conflict (job) do update set round_at = excluded.round_at, ran_by = excluded.ran_by, ran_at = now()
       where maintenance_rounds.round_at < excluded.round_at
     returning job`,
    [job, round.at, round.by.slice(0, 200)],
  );
  return claimed.length > 0;
}

/** The next multiple of the interval after `now`, in wall-clock time: the same instant on every instance. */
export function nextRound(now: number, intervalSeconds: number): Date {
  const interval = intervalSeconds * 1000;
  return new Date((Math.floor(now / interval) + 1) * interval);
}

/** How long the timer sleeps at most before reading the interval again (a changed setting applies within this). */
const RECHECK_MS = 10_000;

/**
 * Starts the periodic cleanup; returns a function that stops it. Rounds fall on wall-clock
 * multiples of the interval, so all instances wake for the same round and one claims it.
 */
export function startCleanupTimer(
  forkEm: () => EntityManager,
  storage: ArtifactStorage,
  intervalSeconds: () => Promise<number>,
  log: Logger,
  instance = `${hostname()}:${process.pid}`,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let due: Date | undefined;
  const tick = async () => {
    if (stopped) return;
    const seconds = await intervalSeconds().catch(() => 300);
    if (due && Date.now() >= due.getTime()) {
      const round = due;
      due = undefined;
      try {
        const result = await runCleanup(forkEm(), { storage, round: { at: round, by: instance } });
        if (result.ran) log.debug({ cleanup: result, round }, "cleanup ran");
        else log.debug({ round }, "cleanup round skipped: another instance has it");
      } catch (err) {
        log.warn({ err }, "cleanup failed; will retry");
      }
    }
    if (stopped) return;
    // A shorter interval set meanwhile brings the round forward.
    const next = nextRound(Date.now(), seconds);
    if (!due || next < due) due = next;
    timer = setTimeout(() => void tick(), Math.min(RECHECK_MS, Math.max(0, due.getTime() - Date.now())));
    timer.unref();
  };
  timer = setTimeout(() => void tick(), 0);
  timer.unref();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
