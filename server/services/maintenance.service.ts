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
 * them do the work at a time, the others return `{ ran: false }` at once.
 */
export async function runCleanup(
  em: EntityManager,
  options: { storage?: ArtifactStorage; whileLocked?: () => Promise<void> } = {},
): Promise<CleanupResult> {
  return em.transactional(async (tx) => {
    const [lock] = await tx.execute<{ locked: boolean }[]>("select pg_try_advisory_xact_lock(?) as locked", [CLEANUP_LOCK]);
    if (!lock?.locked) return { ran: false };
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

/** Starts the periodic cleanup; returns a function that stops it. */
export function startCleanupTimer(
  forkEm: () => EntityManager,
  storage: ArtifactStorage,
  intervalSeconds: () => Promise<number>,
  log: Logger,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = async () => {
    try {
      const result = await runCleanup(forkEm(), { storage });
      if (result.ran) log.debug({ cleanup: result }, "cleanup ran");
    } catch (err) {
      log.warn({ err }, "cleanup failed; will retry");
    }
    if (stopped) return;
    const seconds = await intervalSeconds().catch(() => 300);
    timer = setTimeout(() => void tick(), seconds * 1000);
    timer.unref();
  };
  timer = setTimeout(() => void tick(), 5_000);
  timer.unref();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
