import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Server } from "node:http";
import { createHttpApp } from "../../server/http/app";
import type { Runtime } from "../../server/http/runtime";
import { createLogger } from "../../server/logger";
import { testConfig } from "../support/config";
import { createTestDatabase, type TestDatabase } from "../support/database";

let db: TestDatabase;
let server: Server;
let url: string;
let runtime: Runtime;

beforeAll(async () => {
  db = await createTestDatabase();
  runtime = {
    config: testConfig(),
    log: createLogger("silent"),
    orm: db.orm,
    startedAt: new Date(),
    version: "test",
    draining: false,
  };
  server = createHttpApp(runtime).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await db.drop();
});

describe("health endpoints", () => {
  test("/healthz answers 200 with security headers and a request id", async () => {
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("content-security-policy")).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+'/);
    expect(res.headers.get("referrer-policy")).toBe("same-origin");
  });

  test("an incoming X-Request-Id is ignored when no proxy is trusted", async () => {
    const res = await fetch(`${url}/healthz`, { headers: { "x-request-id": "forged-id" } });
    expect(res.headers.get("x-request-id")).not.toBe("forged-id");
  });

  test("/readyz answers 200 while the database answers", async () => {
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ready: true, database: { ok: true } });
  });

  test("/readyz turns 503 while the process drains for shutdown", async () => {
    runtime.draining = true;
    try {
      const res = await fetch(`${url}/readyz`);
      expect(res.status).toBe(503);
    } finally {
      runtime.draining = false;
    }
  });

  test("/readyz answers 503 when the database is unreachable, and /healthz still 200", async () => {
    const fresh = await createTestDatabase();
    const lonely: Runtime = { ...runtime, orm: fresh.orm };
    const app = createHttpApp(lonely).listen(0, "127.0.0.1");
    await new Promise((r) => app.once("listening", r));
    const address = app.address();
    const appUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    try {
      await fresh.drop(); // closes the pool and drops the database under the app
      const res = await fetch(`${appUrl}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ ready: false });
      expect((await fetch(`${appUrl}/healthz`)).status).toBe(200);
    } finally {
      await new Promise((r) => app.close(r));
    }
  });
});
