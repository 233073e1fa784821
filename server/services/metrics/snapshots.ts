import type { EntityManager } from "@mikro-orm/postgresql";
import type { NodeMetricValues, NodeMetricsOutcome } from "../../domain/metrics/prometheus-client";

/** A stored metrics snapshot as pages and scripts see it. */
export type MetricsSnapshot = {
  hostId: number;
  collectedAt: string;
  expiresAt: string;
  updatedBy: { id: number | null; email: string };
  outcome: NodeMetricsOutcome;
  up: 0 | 1 | null;
  tookMs: number;
  values: NodeMetricValues;
};

type SnapshotRow = {
  host_id: number;
  collected_at: Date;
  expires_at: Date;
  updated_by: number | null;
  updated_by_email: string;
  outcome: NodeMetricsOutcome;
  up: number | null;
  took_ms: number;
  values: NodeMetricValues;
};

function toSnapshot(row: SnapshotRow): MetricsSnapshot {
  return {
    hostId: row.host_id,
    collectedAt: new Date(row.collected_at).toISOString(),
    expiresAt: new Date(row.expires_at).toISOString(),
    updatedBy: { id: row.updated_by, email: row.updated_by_email },
    outcome: row.outcome,
    up: row.up === null ? null : (row.up as 0 | 1),
    tookMs: row.took_ms,
    values: row.values,
  };
}

export async function insertSnapshot(
  em: EntityManager,
  snapshot: Omit<MetricsSnapshot, "expiresAt"> & { ttlSeconds: number },
): Promise<MetricsSnapshot> {
  const [row] = await em.execute<SnapshotRow[]>(
    `insert into metrics_snapshots (host_id, collected_at, expires_at, updated_by, updated_by_email, outcome, up, took_ms, values)
     values (?, ?, ?::timestamptz + make_interval(secs => ?), ?, ?, ?, ?, ?, ?::jsonb)
     returning host_id, collected_at, expires_at, updated_by, updated_by_email, outcome, up, took_ms, values`,
    [
      snapshot.hostId,
      snapshot.collectedAt,
      snapshot.collectedAt,
      snapshot.ttlSeconds,
      snapshot.updatedBy.id,
      snapshot.updatedBy.email,
      snapshot.outcome,
      snapshot.up,
      snapshot.tookMs,
      JSON.stringify(snapshot.values),
    ],
  );
  return toSnapshot(row!);
}

/**
 * The newest snapshot that has not expired: an expired one is never shown as current.
 * With `withinSeconds`, only one collected that recently (the update cooldown).
 */
export async function latestSnapshot(em: EntityManager, hostId: number, withinSeconds?: number): Promise<MetricsSnapshot | null> {
  const [row] = await em.execute<SnapshotRow[]>(
    `select * from metrics_snapshots where host_id = ? and expires_at > now()
     ${withinSeconds ? "and collected_at > now() - make_interval(secs => ?)" : ""}
     order by collected_at desc limit 1`,
    withinSeconds ? [hostId, withinSeconds] : [hostId],
  );
  return row ? toSnapshot(row) : null;
}

/** Snapshots still within their TTL, oldest first (for the sparkline). */
export async function snapshotHistory(em: EntityManager, hostId: number, limit = 120): Promise<MetricsSnapshot[]> {
  const rows = await em.execute<SnapshotRow[]>(
    "select * from (select * from metrics_snapshots where host_id = ? and expires_at > now() order by collected_at desc limit ?) s order by collected_at",
    [hostId, limit],
  );
  return rows.map(toSnapshot);
}

/** When the newest snapshot (expired or not) was taken: lets a page say "last data expired". */
export async function lastExpiredAt(em: EntityManager, hostId: number): Promise<string | null> {
  const [row] = await em.execute<{ expires_at: Date }[]>(
    "select expires_at from metrics_snapshots where host_id = ? and expires_at <= now() order by collected_at desc limit 1",
    [hostId],
  );
  return row ? new Date(row.expires_at).toISOString() : null;
}
