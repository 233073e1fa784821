import { describe, expect, it } from "vitest";
import { buildNodeQueries, escapePromqlString, NODE_METRIC_NAMES } from "../../../server/domain/metrics/promql";

describe("escapePromqlString", () => {
  it("escapes quotes, backslashes and control characters the Go way", () => {
    expect(escapePromqlString('a"b\\c')).toBe('a\\"b\\\\c');
    expect(escapePromqlString("a\nb\tc\u0001")).toBe("a\\nb\\tc\\x01");
  });

  it("leaves ordinary instance labels alone", () => {
    expect(escapePromqlString("web-1.example.com:9100")).toBe("web-1.example.com:9100");
  });
});

describe("buildNodeQueries", () => {
  const queries = buildNodeQueries("web-1:9100");

  it("has a query for up and for every metric", () => {
    expect(Object.keys(queries).sort()).toEqual(["up", ...NODE_METRIC_NAMES].sort());
    for (const query of Object.values(queries)) expect(query).toContain('instance="web-1:9100"');
  });

  it("computes CPU from the idle rate over 5 minutes", () => {
    expect(queries.cpuPct).toBe('100 * (1 - avg(rate(node_cpu_seconds_total{instance="web-1:9100",mode="idle"}[5m])))');
  });

  it("measures the root filesystem only", () => {
    expect(queries.diskPct).toContain('mountpoint="/"');
  });

  it("leaves the loopback device out of network rates", () => {
    expect(queries.netRxBps).toContain('device!="lo"');
    expect(queries.netTxBps).toContain('device!="lo"');
  });

  it("derives uptime from the boot time", () => {
    expect(queries.uptimeSeconds).toContain("time() - node_boot_time_seconds");
  });
});
