import type { EntityManager } from "@mikro-orm/postgresql";
import type { Config } from "../../config";
import {
  type NodeMetricsResult,
  PrometheusError,
  queryNodeMetrics,
  testPrometheusConnection,
} from "../../domain/metrics/prometheus-client";
import { prometheusErrorTrpcCode } from "../../domain/metrics/prometheus-error";
import type { FetchLike } from "../../domain/metrics/prometheus-http";
import { DomainError } from "../../errors";
import { metricsUpdates } from "../../observability/app-metrics";
import { type AuditActor, type AuditRequestInfo, recordAuditEvent } from "../audit.service";
import { getHost } from "../hosts/hosts.service";
import type { HostView } from "../hosts/host-view";
import { type EffectiveSettings, getSettings } from "../settings.service";
import { insertSnapshot, latestSnapshot, type MetricsSnapshot } from "./snapshots";

/** The states a page words differently; `ok` and `partial` store a snapshot. */
export type MetricsState =
  | "ok"
  | "partial"
  | "not_configured"
  | "unreachable"
  | "timeout"
  | "http_error"
  | "bad_response"
  | "target_down"
  | "no_series";

/** A refresh newer than this is returned again instead of querying Prometheus. */
const COOLDOWN_MS = 3_000;
/** First key of the two-key advisory lock `(METRICS_UPDATE_LOCK, hostId)`: one update per host. */
export const METRICS_UPDATE_LOCK = 727_200;

// Clicks on one host while its update runs share that update: in-process through this map
// (fast path, no connection held), across instances through a per-host advisory lock.
const inFlight = new Map<number, Promise<MetricsSnapshot>>();

export type UpdateOptions = { fetchImpl?: FetchLike };

/**
 * Queries Prometheus for one host and stores the result as a snapshot with the TTL from
 * settings. Failures throw a DomainError with a plainly worded message and never touch
 * the stored snapshots, so the last good one stays. Every real query is audited
 * (`METRICS_UPDATED`) with its outcome.
 */
export async function updateHostMetrics(
  em: EntityManager,
  config: Config,
  actor: AuditActor & { id: number; email: string },
  hostId: number,
  request: AuditRequestInfo,
  options: UpdateOptions = {},
): Promise<MetricsSnapshot> {
  const running = inFlight.get(hostId);
  if (running) return running;
  // Registered before the first await, so concurrent clicks find it.
  const work = cooldownOrUpdate(em, config, actor, hostId, request, options).finally(() => inFlight.delete(hostId));
  inFlight.set(hostId, work);
  return work;
}

async function cooldownOrUpdate(
  em: EntityManager,
  config: Config,
  actor: AuditActor & { id: number; email: string },
  hostId: number,
  request: AuditRequestInfo,
  options: UpdateOptions,
): Promise<MetricsSnapshot> {
  // Independent reads, in parallel (each on its own fork): they sit on the latency path.
  const [recent, host, settings] = await Promise.all([
    latestSnapshot(em.fork(), hostId, COOLDOWN_MS / 1000),
    getHost(em.fork(), hostId),
    getSettings(em.fork(), config),
  ]);
  if (recent) return recent;
  // Another instance may be querying this host right now: wait for its transaction-scoped
  // lock, then re-read, so its fresh snapshot is returned instead of a second query. The
  // lock is held at most prometheus.timeoutMs (the query's own deadline).
  return em.fork().transactional(async (tx) => {
    await tx.execute("select pg_advisory_xact_lock(?, ?)", [METRICS_UPDATE_LOCK, hostId]);
    const fresh = await latestSnapshot(em.fork(), hostId, COOLDOWN_MS / 1000);
    return fresh ?? runUpdate(em, config, actor, host, settings, request, options);
  });
}

async function runUpdate(
  em: EntityManager,
  config: Config,
  actor: AuditActor & { id: number; email: string },
  host: HostView,
  settings: EffectiveSettings,
  request: AuditRequestInfo,
  options: UpdateOptions,
): Promise<MetricsSnapshot> {
  const hostId = host.id;
  const baseUrl = settings["prometheus.url"];
  const timeoutMs = settings["prometheus.timeoutMs"];
  const instance = host.effectivePrometheusInstance;
  const audit = (outcome: "success" | "failure", state: MetricsState, detail: Record<string, unknown>) =>
    recordAuditEvent(em.fork(), config.secret, {
      actor,
      action: "METRICS_UPDATED",
      targetType: "host",
      targetId: hostId,
      outcome,
      after: { state, instance, ...detail },
      request,
    });

  let result: NodeMetricsResult;
  try {
    if (!baseUrl) throw new PrometheusError("not_configured", "Prometheus is not configured.");
    result = await queryNodeMetrics({ baseUrl, instance, timeoutMs, fetchImpl: options.fetchImpl });
  } catch (error) {
    if (!(error instanceof PrometheusError)) throw error;
    metricsUpdates.inc({ outcome: error.kind });
    await audit("failure", error.kind, { message: error.message });
    throw new DomainError(prometheusErrorTrpcCode(error.kind), explainFailure(error, timeoutMs), { state: error.kind });
  }
  metricsUpdates.inc({ outcome: result.outcome });
  if (result.outcome === "target_down" || result.outcome === "no_series") {
    await audit("failure", result.outcome, { tookMs: result.tookMs });
    throw new DomainError(
      result.outcome === "target_down" ? "BAD_GATEWAY" : "PRECONDITION_FAILED",
      result.outcome === "target_down"
        ? `Prometheus reports the target ${instance} as down (up == 0): node_exporter is not reachable from Prometheus. The last good metrics are kept.`
        : `Prometheus has no series for instance "${instance}". Check the host's Prometheus instance label (it must match the instance label in Prometheus exactly).`,
      { state: result.outcome },
    );
  }
  const snapshot = await em.transactional(async (tx) => {
    const stored = await insertSnapshot(tx, {
      hostId,
      collectedAt: new Date().toISOString(),
      updatedBy: { id: actor.id, email: actor.email },
      outcome: result.outcome,
      up: result.up,
      tookMs: Math.round(result.tookMs),
      values: result.values,
      ttlSeconds: settings["metrics.snapshotTtlSeconds"],
    });
    await recordAuditEvent(tx, config.secret, {
      actor,
      action: "METRICS_UPDATED",
      targetType: "host",
      targetId: hostId,
      after: { state: result.outcome, instance, tookMs: Math.round(result.tookMs) },
      request,
    });
    return stored;
  });
  return snapshot;
}

function explainFailure(error: PrometheusError, timeoutMs: number, forUpdate = true): string {
  const kept = forUpdate ? " The last good metrics are kept." : "";
  switch (error.kind) {
    case "not_configured":
      return "Prometheus is not configured. An admin can set its URL on the Settings page (or PROMETHEUS_URL).";
    case "timeout":
      return `Prometheus did not answer within ${(timeoutMs / 1000).toFixed(1)} s.${kept} Try again, or raise the timeout in Settings.`;
    default:
      return `${error.message}${kept}`;
  }
}

/** "Test connection" on the Settings page: a URL (typed or saved) answers like Prometheus. */
export async function testPrometheus(
  em: EntityManager,
  config: Config,
  url: string | undefined,
  options: UpdateOptions = {},
): Promise<{ ok: true; version: string | null; tookMs: number; url: string }> {
  const settings = await getSettings(em, config);
  const baseUrl = url || settings["prometheus.url"];
  try {
    if (!baseUrl) throw new PrometheusError("not_configured", "Prometheus is not configured.");
    const result = await testPrometheusConnection({ baseUrl, timeoutMs: settings["prometheus.timeoutMs"], fetchImpl: options.fetchImpl });
    return { ok: true, version: result.version ?? null, tookMs: Math.round(result.tookMs), url: baseUrl };
  } catch (error) {
    if (!(error instanceof PrometheusError)) throw error;
    throw new DomainError(prometheusErrorTrpcCode(error.kind), explainFailure(error, settings["prometheus.timeoutMs"], false), {
      state: error.kind,
    });
  }
}
