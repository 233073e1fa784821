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
    ["ARTIFACT_STORE", "nfs"],
    ["S3_ENDPOINT", "s3.example.com"],
    ["S3_BUCKET", "Bad_Bucket"],
    ["S3_FORCE_PATH_STYLE", "yes"],
    ["UPLOAD_IDLE_TIMEOUT_SECONDS", "1"],
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

  test("the local directory is the default artifact store; S3 settings are ignored without ARTIFACT_STORE=s3", () => {
    const config = loadConfig({ ...base, S3_BUCKET: "unused" });
    expect(config.artifactStore).toBe("fs");
    expect(config.s3).toBeUndefined();
    expect(config.uploadIdleTimeoutMs).toBe(60_000);
  });

  test("SHUTDOWN_DRAIN_SECONDS is 5 s in production and 0 otherwise by default, takes fractions, and refuses negatives", () => {
    expect(loadConfig({ ...base, NODE_ENV: "production", OPSDESK_SECRET: "x".repeat(32) }).shutdownDrainMs).toBe(5_000);
    expect(loadConfig({ ...base, NODE_ENV: "development" }).shutdownDrainMs).toBe(0);
    expect(loadConfig({ ...base, SHUTDOWN_DRAIN_SECONDS: "0.5" }).shutdownDrainMs).toBe(500);
    expect(() => loadConfig({ ...base, SHUTDOWN_DRAIN_SECONDS: "-1" })).toThrow(/SHUTDOWN_DRAIN_SECONDS/);
  });

  test("ARTIFACT_STORE=s3 reads the bucket, endpoint, region, path style and keys", () => {
    const config = loadConfig({
      ...base,
      ARTIFACT_STORE: "s3",
      S3_BUCKET: "opsdesk-artifacts",
      S3_ENDPOINT: "http://minio.internal:9000",
      S3_FORCE_PATH_STYLE: "1",
      S3_ACCESS_KEY_ID: "AKIDEXAMPLE",
      S3_SECRET_ACCESS_KEY: "secret-example",
    });
    expect(config.s3).toEqual({
      bucket: "opsdesk-artifacts",
      endpoint: "http://minio.internal:9000",
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret-example" },
    });
  });

  test("ARTIFACT_STORE=s3 without a bucket, or with only one of the two keys, names the missing variable", () => {
    expect(problemsOf({ ARTIFACT_STORE: "s3" }).map((p) => p.variable)).toEqual(["S3_BUCKET"]);
    expect(problemsOf({ ARTIFACT_STORE: "s3", S3_BUCKET: "b-1", S3_ACCESS_KEY_ID: "k" }).map((p) => p.variable)).toEqual([
      "S3_SECRET_ACCESS_KEY",
    ]);
    // Without keys the AWS SDK's default chain (AWS_* variables, instance role) is used.
    expect(loadConfig({ ...base, ARTIFACT_STORE: "s3", S3_BUCKET: "b-1" }).s3?.credentials).toBeUndefined();
  });
});
