import { z } from "zod";
import { PrometheusError } from "./prometheus-error";
import {
  type FetchLike,
  getPrometheusJson,
  type PrometheusEndpoint,
  resolvePrometheusEndpoint,
  withDeadline,
} from "./prometheus-http";
import { buildNodeQueries, NODE_METRIC_NAMES, type NodeMetricName } from "./promql";

export { PrometheusError, type PrometheusErrorKind } from "./prometheus-error";

/** A value Prometheus did not return is null, never 0: 0 % CPU and "unknown" differ. */
export type NodeMetricValues = Record<NodeMetricName, number | null>;

export type NodeMetricsOutcome = "ok" | "partial" | "target_down" | "no_series";

export interface NodeMetricsResult {
  outcome: NodeMetricsOutcome;
  values: NodeMetricValues;
  up: 0 | 1 | null;
  tookMs: number;
}

export interface QueryNodeMetricsOptions {
  baseUrl: string | null | undefined;
  /** The host's `instance` label, e.g. "web-1:9100". */
  instance: string | null | undefined;
  timeoutMs: number;
  fetchImpl?: FetchLike;
}

const sample = z.tuple([z.number(), z.string()]);
const queryResponse = z.object({
  status: z.literal("success"),
  data: z.discriminatedUnion("resultType", [
    z.object({ resultType: z.literal("vector"), result: z.array(z.object({ value: sample })) }),
    z.object({ resultType: z.literal("scalar"), result: sample }),
  ]),
});

const PERCENT_METRICS: ReadonlySet<NodeMetricName> = new Set(["cpuPct", "memPct", "diskPct"]);

/** Runs every node_exporter query for one instance in parallel under one deadline. */
export async function queryNodeMetrics(options: QueryNodeMetricsOptions): Promise<NodeMetricsResult> {
  const endpoint = resolvePrometheusEndpoint(options.baseUrl);
  const instance = options.instance?.trim() ?? "";
  if (instance === "") {
    throw new PrometheusError(
      "not_configured",
      "This host has no Prometheus instance set. Edit the host and fill in its instance label (for example web-1:9100).",
    );
  }
  const timeoutMs = checkedTimeout(options.timeoutMs);
  const fetchImpl = options.fetchImpl ?? fetch;
  const queries = buildNodeQueries(instance);
  const started = performance.now();

  const samples = await withDeadline({ endpoint, timeoutMs }, (signal) =>
    Promise.all(
      (["up", ...NODE_METRIC_NAMES] as const).map(async (name) => {
        const value = await instantQuery(queries[name], { endpoint, signal, timeoutMs, fetchImpl });
        return [name, value] as const;
      }),
    ),
  );

  const byName = new Map(samples);
  const values = Object.fromEntries(
    NODE_METRIC_NAMES.map((name) => {
      const value = byName.get(name) ?? null;
      return [name, value !== null && PERCENT_METRICS.has(name) ? clampPercent(value) : value];
    }),
  ) as NodeMetricValues;
  const up = toUp(byName.get("up") ?? null);
  return { outcome: decideOutcome(up, values), values, up, tookMs: Math.round(performance.now() - started) };
}

/** up==0 wins (the values are stale or absent); nothing at all means the instance is unknown. */
export function decideOutcome(up: 0 | 1 | null, values: NodeMetricValues): NodeMetricsOutcome {
  if (up === 0) return "target_down";
  const present = Object.values(values).filter((value) => value !== null).length;
  if (up === null && present === 0) return "no_series";
  return present === NODE_METRIC_NAMES.length ? "ok" : "partial";
}

export interface TestPrometheusConnectionOptions {
  baseUrl: string | null | undefined;
  timeoutMs: number;
  fetchImpl?: FetchLike;
}

export interface PrometheusConnectionOk {
  ok: true;
  version?: string;
  tookMs: number;
}

const buildInfoResponse = z.object({
  status: z.literal("success"),
  data: z.object({ version: z.string().optional() }).optional(),
});

/**
 * Checks Prometheus answers its API. Prometheus-compatible servers without buildinfo (404)
 * are accepted when a trivial query works, just without a version.
 */
export async function testPrometheusConnection(options: TestPrometheusConnectionOptions): Promise<PrometheusConnectionOk> {
  const endpoint = resolvePrometheusEndpoint(options.baseUrl);
  const timeoutMs = checkedTimeout(options.timeoutMs);
  const fetchImpl = options.fetchImpl ?? fetch;
  const started = performance.now();

  const version = await withDeadline({ endpoint, timeoutMs }, async (signal) => {
    try {
      const json = await getPrometheusJson("api/v1/status/buildinfo", { endpoint, params: {}, signal, timeoutMs, fetchImpl });
      const parsed = buildInfoResponse.safeParse(json);
      if (!parsed.success) throw notPrometheusJson(endpoint);
      return parsed.data.data?.version;
    } catch (error) {
      if (!(error instanceof PrometheusError && error.status === 404)) throw error;
      await instantQuery("vector(1)", { endpoint, signal, timeoutMs, fetchImpl });
      return undefined;
    }
  });
  const tookMs = Math.round(performance.now() - started);
  return version === undefined ? { ok: true, tookMs } : { ok: true, version, tookMs };
}

interface QueryContext {
  endpoint: PrometheusEndpoint;
  signal: AbortSignal;
  timeoutMs: number;
  fetchImpl: FetchLike;
}

/** One instant query; returns the first sample, or null when there is none or it is NaN/Inf. */
async function instantQuery(query: string, context: QueryContext): Promise<number | null> {
  const json = await getPrometheusJson("api/v1/query", {
    ...context,
    // Prometheus's own timeout makes it stop work we will no longer wait for.
    params: { query, timeout: `${context.timeoutMs}ms` },
  });
  const parsed = queryResponse.safeParse(json);
  if (!parsed.success) throw notPrometheusJson(context.endpoint);
  const data = parsed.data.data;
  const raw = data.resultType === "scalar" ? data.result[1] : data.result[0]?.value[1];
  // Number("") is 0, and an empty sample must not read as a real zero.
  if (raw === undefined || raw.trim() === "") return null;
  const value = Number(raw);
  return Number.isFinite(value) ? value : null;
}

function notPrometheusJson(endpoint: PrometheusEndpoint): PrometheusError {
  return new PrometheusError(
    "bad_response",
    `${endpoint.display} answered JSON that is not a Prometheus API response. Check that the URL points to Prometheus itself.`,
  );
}

function checkedTimeout(timeoutMs: number): number {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
  }
  return Math.ceil(timeoutMs);
}

/** Counter jitter can push a rate-derived percentage a hair outside 0–100. */
function clampPercent(value: number): number {
  return Math.min(100, Math.max(0, value));
}

function toUp(value: number | null): 0 | 1 | null {
  if (value === null) return null;
  return value >= 1 ? 1 : 0;
}
