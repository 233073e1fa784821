import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A sample value; a string passes through verbatim ("NaN", "+Inf"), null means no series. */
export type StubSample = number | string | null;

export type PrometheusStubBehaviour =
  /**
   * Answers each query with the value of the longest key it contains as a whole name (the
   * value stands for the whole query's result); no key → empty vector.
   */
  | { kind: "results"; results: Record<string, StubSample>; version?: string }
  /** Waits `ms` before answering as `after` (healthy by default), to drive timeouts. */
  | { kind: "delay"; ms: number; after?: PrometheusStubBehaviour }
  | { kind: "http_error"; status: number; body?: string }
  | { kind: "malformed_json" }
  /** Every query returns an empty vector: an instance Prometheus has never seen. */
  | { kind: "empty" }
  /** up is 0 and nothing else has series, as after a scrape target went away. */
  | { kind: "target_down" };

export interface StubRequest {
  method: string;
  path: string;
  params: Record<string, string>;
}

export interface PrometheusStub {
  url: string;
  requests: StubRequest[];
  close(): Promise<void>;
}

/** Substrings of the queries built by buildNodeQueries, with plausible node_exporter values. */
export const HEALTHY_NODE_RESULTS: Record<string, StubSample> = {
  "up{": 1,
  node_cpu_seconds_total: 12.5,
  node_memory_MemAvailable_bytes: 40,
  node_filesystem_avail_bytes: 71.25,
  node_load1: 0.5,
  node_load5: 0.25,
  node_load15: 0.125,
  node_boot_time_seconds: 273_600,
  node_network_receive_bytes_total: 1500,
  node_network_transmit_bytes_total: 0,
};

export async function startPrometheusStub(behaviour: PrometheusStubBehaviour): Promise<PrometheusStub> {
  const requests: StubRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://stub");
    requests.push({ method: req.method ?? "GET", path: url.pathname, params: Object.fromEntries(url.searchParams) });
    answer(behaviour, url, res, timers);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        // Delayed requests hold sockets open; without this close() would wait for them.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function answer(
  behaviour: PrometheusStubBehaviour,
  url: URL,
  res: ServerResponse,
  timers: Set<NodeJS.Timeout>,
): void {
  switch (behaviour.kind) {
    case "delay": {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!res.destroyed) answer(behaviour.after ?? { kind: "results", results: HEALTHY_NODE_RESULTS }, url, res, timers);
      }, behaviour.ms);
      timers.add(timer);
      return;
    }
    case "http_error":
      send(res, behaviour.status, behaviour.body ?? JSON.stringify({ status: "error", errorType: "internal", error: "stub failure" }));
      return;
    case "malformed_json":
      send(res, 200, '{"status":"success","data":{"resultType":"vector","result":[');
      return;
    case "empty":
      answerApi(url, res, {});
      return;
    case "target_down":
      answerApi(url, res, { "up{": 0 });
      return;
    case "results":
      answerApi(url, res, behaviour.results, behaviour.version);
      return;
  }
}

function answerApi(url: URL, res: ServerResponse, results: Record<string, StubSample>, version = "2.53.0"): void {
  if (url.pathname === "/api/v1/status/buildinfo") {
    send(res, 200, JSON.stringify({ status: "success", data: { version, revision: "stub" } }));
    return;
  }
  if (url.pathname !== "/api/v1/query") {
    send(res, 404, JSON.stringify({ status: "error", errorType: "not_found", error: "no such endpoint" }));
    return;
  }
  const query = url.searchParams.get("query") ?? "";
  const key = Object.keys(results)
    .filter((candidate) => containsWhole(query, candidate))
    .sort((a, b) => b.length - a.length)[0];
  const sample = key === undefined ? null : results[key];
  const now = Date.now() / 1000;
  const result = sample === null ? [] : [{ metric: {}, value: [now, String(sample)] }];
  send(res, 200, JSON.stringify({ status: "success", data: { resultType: "vector", result } }));
}

/** "node_load1" must not match the node_load15 query, so a key must end at a non-name char. */
function containsWhole(query: string, key: string): boolean {
  if (!/[A-Za-z0-9_]$/.test(key)) return query.includes(key);
  for (let at = query.indexOf(key); at !== -1; at = query.indexOf(key, at + 1)) {
    if (!/[A-Za-z0-9_]/.test(query.charAt(at + key.length))) return true;
  }
  return false;
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(body);
}
