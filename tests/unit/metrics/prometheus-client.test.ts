import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  decideOutcome,
  PrometheusError,
  queryNodeMetrics,
  testPrometheusConnection,
} from "../../../server/domain/metrics/prometheus-client";
import { prometheusErrorTrpcCode } from "../../../server/domain/metrics/prometheus-error";
import {
  HEALTHY_NODE_RESULTS,
  type PrometheusStub,
  type PrometheusStubBehaviour,
  startPrometheusStub,
} from "../../support/prometheus-stub";

let stub: PrometheusStub | undefined;

afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

async function withStub(behaviour: PrometheusStubBehaviour): Promise<PrometheusStub> {
  stub = await startPrometheusStub(behaviour);
  return stub;
}

async function failure(promise: Promise<unknown>): Promise<PrometheusError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(PrometheusError);
  return error as PrometheusError;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("queryNodeMetrics", () => {
  it("returns every value and outcome ok when node_exporter is healthy", async () => {
    const { url } = await withStub({ kind: "results", results: HEALTHY_NODE_RESULTS });
    const result = await queryNodeMetrics({ baseUrl: url, instance: "web-1:9100", timeoutMs: 2000 });
    expect(result).toMatchObject({
      outcome: "ok",
      up: 1,
      values: {
        cpuPct: 12.5,
        memPct: 40,
        diskPct: 71.25,
        load1: 0.5,
        load5: 0.25,
        load15: 0.125,
        uptimeSeconds: 273_600,
        netRxBps: 1500,
        netTxBps: 0,
      },
    });
    expect(result.tookMs).toBeGreaterThanOrEqual(0);
  });

  it("sends every query as a GET to /api/v1/query with Prometheus's own timeout", async () => {
    const prometheus = await withStub({ kind: "results", results: HEALTHY_NODE_RESULTS });
    await queryNodeMetrics({ baseUrl: prometheus.url, instance: "web-1:9100", timeoutMs: 1500 });
    expect(prometheus.requests).toHaveLength(10);
    for (const request of prometheus.requests) {
      expect(request).toMatchObject({ method: "GET", path: "/api/v1/query", params: { timeout: "1500ms" } });
      expect(request.params.query).toContain('instance="web-1:9100"');
    }
  });

  it("keeps a path prefix in the base URL", async () => {
    const calls: string[] = [];
    const fetchImpl: typeof fetch = async (input) => {
      calls.push(String(input));
      return Response.json({ status: "success", data: { resultType: "vector", result: [] } });
    };
    await queryNodeMetrics({ baseUrl: "http://prom.example/prometheus", instance: "a", timeoutMs: 1000, fetchImpl });
    expect(calls[0]).toMatch(/^http:\/\/prom\.example\/prometheus\/api\/v1\/query\?/);
  });

  it("moves credentials from the URL into a Basic header and keeps them out of messages", async () => {
    let authorization: string | null = null;
    let requested = "";
    const fetchImpl: typeof fetch = async (input, init) => {
      requested = String(input);
      authorization = new Headers(init?.headers).get("authorization");
      return new Response("nope", { status: 401 });
    };
    const error = await failure(
      queryNodeMetrics({ baseUrl: "https://ops:s3cret@prom.example", instance: "a", timeoutMs: 1000, fetchImpl }),
    );
    expect(requested).not.toContain("s3cret");
    expect(authorization).toBe(`Basic ${Buffer.from("ops:s3cret").toString("base64")}`);
    expect(error.message).not.toContain("s3cret");
    expect(error.message).toContain("credentials");
  });

  it("reports a value Prometheus did not return as null and the outcome as partial", async () => {
    const { node_load15: _dropped, ...rest } = HEALTHY_NODE_RESULTS;
    const { url } = await withStub({ kind: "results", results: rest });
    const result = await queryNodeMetrics({ baseUrl: url, instance: "web-1:9100", timeoutMs: 2000 });
    expect(result.outcome).toBe("partial");
    expect(result.values.load15).toBeNull();
    expect(result.values.netTxBps).toBe(0);
  });

  it("treats NaN and infinite samples as missing rather than as numbers", async () => {
    const { url } = await withStub({
      kind: "results",
      results: { ...HEALTHY_NODE_RESULTS, node_memory_MemAvailable_bytes: "NaN", node_load1: "+Inf" },
    });
    const result = await queryNodeMetrics({ baseUrl: url, instance: "web-1:9100", timeoutMs: 2000 });
    expect(result.values.memPct).toBeNull();
    expect(result.values.load1).toBeNull();
    expect(result.outcome).toBe("partial");
  });

  it("clamps percentages pushed outside 0–100 by counter jitter", async () => {
    const { url } = await withStub({ kind: "results", results: { ...HEALTHY_NODE_RESULTS, node_cpu_seconds_total: -0.02 } });
    const result = await queryNodeMetrics({ baseUrl: url, instance: "web-1:9100", timeoutMs: 2000 });
    expect(result.values.cpuPct).toBe(0);
  });

  it("answers target_down when up is 0", async () => {
    const { url } = await withStub({ kind: "target_down" });
    const result = await queryNodeMetrics({ baseUrl: url, instance: "web-1:9100", timeoutMs: 2000 });
    expect(result.outcome).toBe("target_down");
    expect(result.up).toBe(0);
    expect(Object.values(result.values).every((value) => value === null)).toBe(true);
  });

  it("answers no_series, not an error, when Prometheus knows nothing of the instance", async () => {
    const { url } = await withStub({ kind: "empty" });
    const result = await queryNodeMetrics({ baseUrl: url, instance: "typo:9100", timeoutMs: 2000 });
    expect(result).toMatchObject({ outcome: "no_series", up: null });
    expect(Object.values(result.values).every((value) => value === null)).toBe(true);
  });

  it("escapes quotes and backslashes in the instance so it cannot inject matchers", async () => {
    const prometheus = await withStub({ kind: "empty" });
    await queryNodeMetrics({ baseUrl: prometheus.url, instance: 'x",job="evil\\', timeoutMs: 2000 });
    expect(prometheus.requests[0]?.params.query).toBe('max(up{instance="x\\",job=\\"evil\\\\"})');
  });

  it("times out after the given time and says how long it waited", async () => {
    const { url } = await withStub({ kind: "delay", ms: 2000 });
    const started = Date.now();
    const error = await failure(queryNodeMetrics({ baseUrl: url, instance: "web-1:9100", timeoutMs: 200 }));
    expect(Date.now() - started).toBeLessThan(1500);
    expect(error.kind).toBe("timeout");
    expect(error.message).toContain("Prometheus did not answer within 0.2 s");
    expect(prometheusErrorTrpcCode(error.kind)).toBe("GATEWAY_TIMEOUT");
  });

  it("reports an HTTP 500 as http_error with the status", async () => {
    const { url } = await withStub({ kind: "http_error", status: 500 });
    const error = await failure(queryNodeMetrics({ baseUrl: url, instance: "web-1:9100", timeoutMs: 2000 }));
    expect(error.kind).toBe("http_error");
    expect(error.status).toBe(500);
    expect(error.message).toContain("HTTP 500");
    expect(error.message).toContain("stub failure");
    expect(prometheusErrorTrpcCode(error.kind)).toBe("BAD_GATEWAY");
  });

  it("reports Prometheus's own query timeout (503 timeout) as a timeout", async () => {
    const body = JSON.stringify({ status: "error", errorType: "timeout", error: "query timed out" });
    const { url } = await withStub({ kind: "http_error", status: 503, body });
    const error = await failure(queryNodeMetrics({ baseUrl: url, instance: "web-1:9100", timeoutMs: 2000 }));
    expect(error).toMatchObject({ kind: "timeout", status: 503 });
  });

  it("reports malformed JSON as bad_response", async () => {
    const { url } = await withStub({ kind: "malformed_json" });
    const error = await failure(queryNodeMetrics({ baseUrl: url, instance: "web-1:9100", timeoutMs: 2000 }));
    expect(error.kind).toBe("bad_response");
    expect(error.message).toContain("not Prometheus API JSON");
  });

  it("reports JSON of the wrong shape as bad_response", async () => {
    const fetchImpl: typeof fetch = async () => Response.json({ status: "success", data: { resultType: "matrix" } });
    const error = await failure(queryNodeMetrics({ baseUrl: "http://p", instance: "a", timeoutMs: 1000, fetchImpl }));
    expect(error.kind).toBe("bad_response");
  });

  it("reports a refused connection as unreachable and names the cause", async () => {
    const port = await closedPort();
    const error = await failure(
      queryNodeMetrics({ baseUrl: `http://127.0.0.1:${port}`, instance: "web-1:9100", timeoutMs: 2000 }),
    );
    expect(error.kind).toBe("unreachable");
    expect(error.message).toContain("connection refused");
    expect(error.message).toContain(`127.0.0.1:${port}`);
  });

  it.each([
    [undefined, "No Prometheus URL"],
    ["   ", "No Prometheus URL"],
    ["not a url", "not a valid URL"],
    ["ftp://prom.example", "http:// or https://"],
    ["file:///etc/passwd", "http:// or https://"],
  ])("refuses base URL %j as not_configured", async (baseUrl, wording) => {
    const error = await failure(queryNodeMetrics({ baseUrl, instance: "a", timeoutMs: 1000 }));
    expect(error.kind).toBe("not_configured");
    expect(error.message).toContain(wording);
    expect(prometheusErrorTrpcCode(error.kind)).toBe("PRECONDITION_FAILED");
  });

  it("refuses a host without an instance label as not_configured", async () => {
    const error = await failure(queryNodeMetrics({ baseUrl: "http://p", instance: " ", timeoutMs: 1000 }));
    expect(error.kind).toBe("not_configured");
    expect(error.message).toContain("instance");
  });
});

describe("decideOutcome", () => {
  const none = {
    cpuPct: null,
    memPct: null,
    diskPct: null,
    load1: null,
    load5: null,
    load15: null,
    uptimeSeconds: null,
    netRxBps: null,
    netTxBps: null,
  };

  it("calls up without any value partial, since the target answers but is not node_exporter", () => {
    expect(decideOutcome(1, none)).toBe("partial");
  });

  it("prefers target_down over values that are still around", () => {
    expect(decideOutcome(0, { ...none, cpuPct: 3 })).toBe("target_down");
  });

  it("calls values without up partial rather than no_series", () => {
    expect(decideOutcome(null, { ...none, load1: 1 })).toBe("partial");
  });
});

describe("testPrometheusConnection", () => {
  it("returns the version from buildinfo", async () => {
    const prometheus = await withStub({ kind: "results", results: {}, version: "2.53.1" });
    const result = await testPrometheusConnection({ baseUrl: prometheus.url, timeoutMs: 2000 });
    expect(result).toMatchObject({ ok: true, version: "2.53.1" });
    expect(prometheus.requests[0]?.path).toBe("/api/v1/status/buildinfo");
  });

  it("accepts a Prometheus-compatible server without buildinfo, without a version", async () => {
    const fetchImpl: typeof fetch = async (input) =>
      String(input).includes("buildinfo")
        ? new Response("404 page not found", { status: 404 })
        : Response.json({ status: "success", data: { resultType: "scalar", result: [1, "1"] } });
    const result = await testPrometheusConnection({ baseUrl: "http://vm.example", timeoutMs: 1000, fetchImpl });
    expect(result.ok).toBe(true);
    expect(result.version).toBeUndefined();
  });

  it("times out with the wait in the message", async () => {
    const { url } = await withStub({ kind: "delay", ms: 2000 });
    const error = await failure(testPrometheusConnection({ baseUrl: url, timeoutMs: 200 }));
    expect(error.kind).toBe("timeout");
    expect(error.message).toContain("0.2 s");
  });

  it("reports a 500 as http_error", async () => {
    const { url } = await withStub({ kind: "http_error", status: 500 });
    const error = await failure(testPrometheusConnection({ baseUrl: url, timeoutMs: 2000 }));
    expect(error).toMatchObject({ kind: "http_error", status: 500 });
  });

  it("reports a page that is not Prometheus as bad_response", async () => {
    const fetchImpl: typeof fetch = async () => new Response("<html>Grafana</html>", { status: 200 });
    const error = await failure(testPrometheusConnection({ baseUrl: "http://grafana", timeoutMs: 1000, fetchImpl }));
    expect(error.kind).toBe("bad_response");
  });

  it("reports a closed port as unreachable", async () => {
    const port = await closedPort();
    const error = await failure(testPrometheusConnection({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 2000 }));
    expect(error.kind).toBe("unreachable");
  });

  it("refuses a non-http URL", async () => {
    const error = await failure(testPrometheusConnection({ baseUrl: "javascript:alert(1)", timeoutMs: 1000 }));
    expect(error.kind).toBe("not_configured");
  });
});
