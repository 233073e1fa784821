import { describe, expect, test } from "vitest";
import { ConfigError, loadConfig } from "../../server/config";

const base = { OPSDESK_DATA_DIR: "/tmp/opsdesk-config-test", OPSDESK_SECRET: "x".repeat(40) };

function problemsOf(env: Record<string, string>) {
  try {
    loadConfig({ ...base, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("configuration", () => {
  test("defaults match the documented contract", () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({ port: 3000, host: "127.0.0.1", logLevel: "info", allowedOrigins: [], trustProxy: 0 });
    expect(config.artifactStoragePath).toBe("/tmp/opsdesk-config-test/artifacts");
  });

  test.each([
    ["PORT", "not-a-port"],
    ["PORT", "70000"],
    ["PROMETHEUS_URL", "ftp://prom"],
    ["ALLOWED_ORIGINS", "https://ok.example.com,javascript:alert(1)"],
    ["LOG_LEVEL", "loud"],
    ["DATABASE_URL", "mysql://db"],
    ["OPSDESK_SECRET", "short"],
    ["TRUST_PROXY", "-1"],
  ])("a bad %s (%s) is reported by name", (variable, value) => {
    const problems = problemsOf({ [variable]: value });
    expect(problems.map((p) => p.variable)).toContain(variable);
  });

  test("production requires OPSDESK_SECRET", () => {
    expect(() => loadConfig({ OPSDESK_DATA_DIR: "/tmp/x", NODE_ENV: "production" })).toThrow(/OPSDESK_SECRET/);
  });

  test("allowed origins are split and trimmed", () => {
    const config = loadConfig({ ...base, ALLOWED_ORIGINS: " https://a.example.com , http://b.example.com:8080" });
    expect(config.allowedOrigins).toEqual(["https://a.example.com", "http://b.example.com:8080"]);
  });
});
