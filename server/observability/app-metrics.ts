import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * The app's own metrics, for the ops team's Prometheus (`GET /metrics`). One registry per
 * process; default metrics include event-loop lag, heap and GC.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: "opsdesk_" });

export const httpRequests = new Counter({
  name: "opsdesk_http_requests_total",
  help: "HTTP requests by route pattern, method and status class.",
  labelNames: ["route", "method", "status"] as const,
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: "opsdesk_http_request_duration_seconds",
  help: "HTTP request duration by route pattern.",
  labelNames: ["route", "method"] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const httpErrors = new Counter({
  name: "opsdesk_http_errors_total",
  help: "HTTP responses with status 500 or above, by route pattern.",
  labelNames: ["route"] as const,
  registers: [registry],
});

export const metricsUpdates = new Counter({
  name: "opsdesk_metrics_updates_total",
  help: "Host metrics updates by outcome (ok, partial, target_down, no_series, timeout, unreachable, …).",
  labelNames: ["outcome"] as const,
  registers: [registry],
});

export type PoolStats = { used: number; free: number; pending: number };
let poolStats: (() => PoolStats) | null = null;

/** The HTTP entry registers how to read the database pool once the ORM exists. */
export function setPoolStatsSource(source: () => PoolStats): void {
  poolStats = source;
}

new Gauge({
  name: "opsdesk_db_pool_connections",
  help: "Database pool connections by state.",
  labelNames: ["state"] as const,
  registers: [registry],
  collect() {
    if (!poolStats) return;
    const stats = poolStats();
    this.set({ state: "used" }, stats.used);
    this.set({ state: "free" }, stats.free);
    this.set({ state: "pending" }, stats.pending);
  },
});

/** A low-cardinality route label: ids and UUIDs become `:id`. */
export function routeLabel(path: string): string {
  return (
    path
      .replace(/\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?=\/|$)/gi, "/:id")
      .replace(/\/\d+(?=\/|$|:)/g, "/:id")
      .replace(/^\/build\/.*/, "/build/*")
      .replace(/^\/api\/trpc\/.*/, (p) => (p.includes(",") ? "/api/trpc/(batch)" : p))
      .slice(0, 100) || "/"
  );
}
