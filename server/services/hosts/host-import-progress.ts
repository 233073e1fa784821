import type { EntityManager } from "@mikro-orm/postgresql";

/**
 * A running import's progress, kept in its `import_runs` row (ADR 022) so that any
 * instance can show it. Written from pooled connections outside the apply's transaction
 * (rows it writes inside stay invisible to everyone else until it commits), at most every
 * PROGRESS_INTERVAL_MS, and never waited for by the import between batches.
 */

export type ImportPhase = "parsing" | "validating" | "applying" | "done" | "failed";
export const RUNNING_PHASES: readonly ImportPhase[] = ["parsing", "validating", "applying"];

const PROGRESS_INTERVAL_MS = 250;
/** A progress or failure write that takes longer is not waited for (the database may be gone). */
const WRITE_WAIT_MS = 2_000;

/**
 * SQL on a pooled connection of its own, outside any transaction of `em`: what it writes
 * is committed at once and visible to every instance.
 */
export async function outsideTransaction<T = Record<string, unknown>>(em: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  const result = (await em.getKnex().raw(sql, params as never[])) as { rows: T[] };
  return result.rows;
}

/** Settles with `work`, or after `ms` (resolving undefined) if it takes longer. */
export function boundedWait<T>(work: Promise<T>, ms = WRITE_WAIT_MS): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    (timer as { unref?: () => void }).unref?.();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Counts and phase of one pass over a file, reported to its run row. `seen` and `applied`
 * only record the latest numbers; a write goes out when the last one is at least
 * PROGRESS_INTERVAL_MS old and none is in flight, else a timer sends the newest state
 * later. A write only touches a row still in a running phase, so a late one can never
 * undo the run's end (`done` or `failed`, written by the import itself).
 */
export class ImportProgress {
  private phase: ImportPhase = "parsing";
  private seen = 0;
  private applied = 0;
  private lastWriteAt = 0;
  private inFlight: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private dirty = false;
  private stopped = false;

  constructor(
    private readonly em: EntityManager,
    readonly runId: string,
  ) {}

  update(change: { phase?: ImportPhase; seen?: number; applied?: number }): void {
    if (this.stopped) return;
    if (change.phase && change.phase !== this.phase) this.phase = change.phase;
    if (change.seen !== undefined) this.seen = change.seen;
    if (change.applied !== undefined) this.applied = change.applied;
    this.dirty = true;
    this.schedule();
  }

  get rowsApplied(): number {
    return this.applied;
  }

  /** No more writes; waits (boundedly) for the one in flight, so the caller's final write comes after it. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.inFlight) await boundedWait(this.inFlight);
  }

  private schedule(): void {
    if (this.inFlight || this.timer || !this.dirty) return;
    const wait = this.lastWriteAt + PROGRESS_INTERVAL_MS - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, wait);
      (this.timer as { unref?: () => void }).unref?.();
      return;
    }
    this.write();
  }

  private write(): void {
    if (this.stopped) return;
    this.dirty = false;
    this.lastWriteAt = Date.now();
    this.inFlight = outsideTransaction(
      this.em,
      `update import_runs set phase = ?, rows_seen = ?, rows_applied = ?, updated_at = clock_timestamp()
       where id = ? and phase in ('parsing', 'validating', 'applying')`,
      [this.phase, this.seen, this.applied, this.runId],
    ).then(
      () => undefined,
      // Progress is best effort: a lost write is replaced by the next one, and if the
      // database is gone the import fails on its own connection anyway.
      () => undefined,
    );
    void this.inFlight.then(() => {
      this.inFlight = null;
      this.schedule();
    });
  }
}
