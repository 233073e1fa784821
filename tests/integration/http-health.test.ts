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
  await runtime.readiness?.close();
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
    const lonely: Runtime = { ...runtime, orm: fresh.orm, readiness: undefined };
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
      await lonely.readiness?.close();
      await new Promise((r) => app.close(r));
    }
  });

  test("/readyz answers 200 at once while every pooled connection is busy (it has its own)", async () => {
    // Ten requests hold the pool's ten connections for 3 s, with more queued behind them.
    const busy = Array.from({ length: 14 }, () => db.orm.em.fork().execute("select pg_sleep(3)"));
    await new Promise((r) => setTimeout(r, 300));
    try {
      const started = performance.now();
      const res = await fetch(`${url}/readyz`);
      const elapsed = performance.now() - started;
      expect(res.status).toBe(200);
      expect(elapsed).toBeLessThan(1_000); // the probe's timeout; in the pool's queue it waited 3 s
    } finally {
      await Promise.allSettled(busy);
    }
  });

  test("/readyz comes back by itself after its connection is cut", async () => {
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    await db.orm.em.fork().execute("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'opsdesk-readyz' and datname = current_database()");
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${url}/readyz`)).status);
    expect(statuses.at(-1)).toBe(200);
  });
});
