import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type EmbeddedPostgres, freePort, startEmbeddedPostgres } from "../../db/embedded-postgres";
import { migrateUp, type Orm, openOrm } from "../../db/orm";
import { createLogger } from "../../server/logger";
import { createUser } from "../../server/services/users.service";
import { type AppServer, startAppServer, trpc } from "../support/app-server";
import { makeTempDir } from "../support/temp-dir";

// A PostgreSQL of this file's own, so it can be stopped and started again on the same
// port while the app keeps running: what a managed database's failover or restart does.
const log = createLogger("silent");
const dataDir = makeTempDir("opsdesk-outage-");
let port: number;
let pg: EmbeddedPostgres | null = null;
let orm: Orm;
let app: AppServer;
let accessToken: string;
let cookies: string;
const admin = { email: "outage-admin@test.example", password: "correct-horse-battery-staple" };

async function startDatabase() {
  pg = await startEmbeddedPostgres({ dataDir, log, port });
}
async function stopDatabase() {
  await pg?.stop();
  pg = null;
}

beforeAll(async () => {
  port = await freePort();
  await startDatabase();
  orm = await openOrm(pg!.url);
  await migrateUp(orm);
  app = await startAppServer({ orm });
  await createUser(orm.em.fork(), app.runtime.config, { id: null, email: "test-setup" }, { ...admin, role: "admin" }, {
    ip: null,
    userAgent: null,
    requestId: null,
  });
  const login = await trpc<{ accessToken: string }>(app.url, "auth.login", { mutation: true, input: admin });
  accessToken = login.data!.accessToken;
  // A browser session: the login form's cookies.
  const page = await fetch(`${app.url}/login`);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? "";
  const form = new URLSearchParams({ ...admin, _csrf: csrf });
  const signIn = await fetch(`${app.url}/login`, {
    method: "POST",
    body: form,
    redirect: "manual",
    headers: { origin: app.url, cookie: page.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ") },
  });
  cookies = signIn.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .filter((c) => !c.endsWith("="))
    .join("; ");
}, 60_000);

afterAll(async () => {
  await app?.close();
  await orm?.close(true);
  await stopDatabase();
});

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - started };
}

describe("while PostgreSQL is down", () => {
  test("the session cookies from the sign-in form open the host list (precondition)", async () => {
    expect(cookies).toContain("opsdesk_at=");
    const res = await fetch(`${app.url}/hosts`, { headers: { cookie: cookies }, redirect: "manual" });
    expect(res.status).toBe(200);
  });

  test("API, pages and readiness answer 503 fast, liveness 200, and service returns by itself", async () => {
    await stopDatabase();

    const api = await timed(() => trpc(app.url, "hosts.list", { input: {}, token: accessToken }));
    expect(api.value.status).toBe(503);
    expect(api.value.error?.data.code).toBe("SERVICE_UNAVAILABLE");
    expect(api.value.error?.message).toMatch(/database/i);
    expect(api.value.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(api.ms).toBeLessThan(8_000);

    const page = await timed(() => fetch(`${app.url}/hosts`, { headers: { cookie: cookies, accept: "text/html" }, redirect: "manual" }));
    expect(page.value.status).toBe(503);
    expect(page.value.headers.get("location")).toBeNull();
    expect(page.value.headers.getSetCookie()).toEqual([]);
    expect(page.value.headers.get("content-type")).toContain("text/html");
    expect(await page.value.text()).toMatch(/database/i);
    expect(page.ms).toBeLessThan(8_000);

    const mutation = await trpc(app.url, "hosts.create", {
      mutation: true,
      token: accessToken,
      input: { hostname: "during-outage.example" },
    });
    expect(mutation.status).toBe(503);

    expect((await fetch(`${app.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);

    await startDatabase();
    const deadline = Date.now() + 30_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await trpc(app.url, "hosts.list", { input: {}, token: accessToken })).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
    const back = await fetch(`${app.url}/hosts`, { headers: { cookie: cookies }, redirect: "manual" });
    expect(back.status).toBe(200);
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);

    // Nothing was half-written: every host has its creation event, and the refused one is absent.
    const created = await trpc<{ id: number }>(app.url, "hosts.create", {
      mutation: true,
      token: accessToken,
      input: { hostname: "after-outage.example" },
    });
    expect(created.status).toBe(200);
    const rows = await orm.em
      .fork()
      .getConnection()
      .execute<{ hosts: string; events: string }[]>(
        "select (select count(*) from hosts) as hosts, (select count(*) from audit_events where action = 'HOST_CREATED') as events",
      );
    expect(rows[0]).toEqual({ hosts: "1", events: "1" });
  }, 90_000);
});
