import { type AddressInfo, createServer, type Socket } from "node:net";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { SessionUser } from "../../server/auth/session-user";
import { runCleanup } from "../../server/services/maintenance.service";
import { METRICS_UPDATE_LOCK } from "../../server/services/metrics/metrics.service";
import { createUser } from "../../server/services/users.service";
import { type AppServer, startAppServer } from "../support/app-server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { HEALTHY_NODE_RESULTS, type PrometheusStub, startPrometheusStub } from "../support/prometheus-stub";
import { callerAs } from "../support/trpc-context";

let db: TestDatabase;
let app: AppServer;
let operator: SessionUser;
let admin: SessionUser;
const stubs: PrometheusStub[] = [];
let seq = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startAppServer(db);
  for (const role of ["operator", "admin"] as const) {
    const { user } = await createUser(
      db.orm.em.fork(),
      app.runtime.config,
      { id: null, email: "setup" },
      { email: `${role}@faults.test`, role, password: "faults-password-1" },
      { ip: null, userAgent: null, requestId: null },
    );
    if (role === "operator") operator = { id: user.id, email: user.email, role, mfaEnabled: false };
    else admin = { id: user.id, email: user.email, role, mfaEnabled: false };
  }
});
afterAll(async () => {
  await Promise.all(stubs.map((s) => s.close()));
  await app.close();
  await db.drop();
});

const as = (user: SessionUser) => callerAs(db, user, app.runtime);

async function stub(behaviour: Parameters<typeof startPrometheusStub>[0]) {
  const s = await startPrometheusStub(behaviour);
  stubs.push(s);
  await as(admin).settings.update({ "prometheus.url": s.url });
  return s;
}

async function newHost() {
  seq += 1;
  return as(operator).hosts.create({ hostname: `h${seq}-${Date.now()}.faults.test`, ip: `192.0.2.${seq}` } as never);
}

/** Ages the stored snapshots so the cooldown does not answer the next update. */
async function ageSnapshots() {
  await db.orm.em.fork().execute("update metrics_snapshots set collected_at = collected_at - interval '1 minute'");
}

/** Polls a condition (bounded: 10 s) for a state no event announces, such as a lock waiter. */
async function until(condition: () => Promise<boolean>) {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not reached within 10 s");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function failure(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

describe("metrics update failure modes", () => {
  test("Prometheus not configured is PRECONDITION_FAILED and says where to set it", async () => {
    await as(admin).settings.update({ "prometheus.url": "" });
    const host = await newHost();
    const error = await failure(as(operator).metrics.update({ hostId: host.id }));
    expect(error.code).toBe("PRECONDITION_FAILED");
    expect(error.message).toMatch(/not configured.*Settings/);
  });

  test("a timeout is GATEWAY_TIMEOUT, says how long it waited, and keeps the last good snapshot", async () => {
    const host = await newHost();
    await stub({ kind: "results", results: HEALTHY_NODE_RESULTS });
    const good = await as(operator).metrics.update({ hostId: host.id });
    await ageSnapshots();
    await as(admin).settings.update({ "prometheus.timeoutMs": 200 });
    try {
      await stub({ kind: "delay", ms: 2_000 });
      const error = await failure(as(operator).metrics.update({ hostId: host.id }));
      expect(error.code).toBe("GATEWAY_TIMEOUT");
      expect(error.message).toMatch(/within 0\.2 s/);
    } finally {
      await as(admin).settings.update({ "prometheus.timeoutMs": 5_000 });
    }
    const latest = await as(operator).metrics.latest({ hostId: host.id });
    expect(latest?.values).toEqual(good.values);
  });

  test.each([
    ["HTTP 500", { kind: "http_error", status: 500 } as const, "BAD_GATEWAY", /500/],
    ["malformed JSON", { kind: "malformed_json" } as const, "BAD_GATEWAY", /./],
    ["an empty result", { kind: "empty" } as const, "PRECONDITION_FAILED", /no series/i],
    ["up == 0", { kind: "target_down" } as const, "BAD_GATEWAY", /down \(up == 0\)/],
  ])("%s is reported plainly and stores nothing", async (_name, behaviour, code, message) => {
    const host = await newHost();
    await stub(behaviour);
    const error = await failure(as(operator).metrics.update({ hostId: host.id }));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(await as(operator).metrics.latest({ hostId: host.id })).toBeNull();
    const [event] = await db.orm.em
      .fork()
      .execute("select outcome from audit_events where action = 'METRICS_UPDATED' and target_id = ? order by id desc limit 1", [
        String(host.id),
      ]);
    expect(event).toEqual({ outcome: "failure" });
  });

  test("missing values are null, never 0, and the outcome is partial", async () => {
    const host = await newHost();
    const { node_load15: _drop, node_network_transmit_bytes_total: _drop2, ...partial } = HEALTHY_NODE_RESULTS;
    await stub({ kind: "results", results: partial });
    const snapshot = await as(operator).metrics.update({ hostId: host.id });
    expect(snapshot.outcome).toBe("partial");
    expect(snapshot.values.load15).toBeNull();
    expect(snapshot.values.netTxBps).toBeNull();
    expect(snapshot.values.load1).toBe(0.5);
  });

  test("concurrent clicks on one host share one query", async () => {
    const host = await newHost();
    const s = await stub({ kind: "delay", ms: 300, after: { kind: "results", results: HEALTHY_NODE_RESULTS } });
    const results = await Promise.all([1, 2, 3, 4].map(() => as(operator).metrics.update({ hostId: host.id })));
    expect(new Set(results.map((r) => r.collectedAt)).size).toBe(1);
    const upQueries = s.requests.filter((r) => r.params.query?.startsWith("max(up"));
    expect(upQueries).toHaveLength(1);
  });

  test("an update waits for another instance's update of the same host and returns its snapshot", async () => {
    const host = await newHost();
    const s = await stub({ kind: "results", results: HEALTHY_NODE_RESULTS });
    await as(operator).metrics.update({ hostId: host.id });
    await ageSnapshots();
    // "Another instance" holds the host's lock, as its update would while querying Prometheus.
    const { waiting } = await db.orm.em.fork().transactional(async (other) => {
      await other.execute("select pg_advisory_xact_lock(?, ?)", [METRICS_UPDATE_LOCK, host.id]);
      const waiting = as(operator).metrics.update({ hostId: host.id });
      await until(async () => {
        const [row] = await db.orm.em.fork().execute<{ n: number }[]>(
          "select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted and objid = ?",
          [host.id],
        );
        return row.n === 1;
      });
      // Its snapshot lands (fresh again) as it commits and releases the lock.
      await other.execute("update metrics_snapshots set collected_at = now() where host_id = ?", [host.id]);
      return { waiting };
    });
    const result = await waiting;
    expect(Date.now() - new Date(result.collectedAt).getTime()).toBeLessThan(3_000);
    expect(s.requests.filter((r) => r.params.query?.startsWith("max(up"))).toHaveLength(1);
  });

  test("viewers cannot update metrics", async () => {
    const host = await newHost();
    const error = await failure(as({ ...operator, role: "viewer" }).metrics.update({ hostId: host.id }));
    expect(error.code).toBe("FORBIDDEN");
  });
});

describe("POST /hosts/:id/metrics:update", () => {
  async function bearer() {
    const res = await fetch(`${app.url}/api/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "operator@faults.test", password: "faults-password-1" }),
    });
    return ((await res.json()) as { result: { data: { accessToken: string } } }).result.data.accessToken;
  }

  test("answers the snapshot as JSON to a Bearer client", async () => {
    const host = await newHost();
    await stub({ kind: "results", results: HEALTHY_NODE_RESULTS });
    const res = await fetch(`${app.url}/hosts/${host.id}/metrics:update`, {
      method: "POST",
      headers: { authorization: `Bearer ${await bearer()}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ hostId: host.id, outcome: "ok", updatedBy: { email: "operator@faults.test" } });
  });

  test("answers a failure as JSON with its code, status and state", async () => {
    const host = await newHost();
    await stub({ kind: "target_down" });
    const res = await fetch(`${app.url}/hosts/${host.id}/metrics:update`, {
      method: "POST",
      headers: { authorization: `Bearer ${await bearer()}` },
    });
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: { code: "BAD_GATEWAY", state: "target_down" } });
  });

  test("a Prometheus that accepts and never answers ends at the deadline as timed out; the host page and /readyz are unaffected", async () => {
    // Issue 15.3: a real socket that is accepted and then left silent (no stub reply at all).
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address() as AddressInfo;
    const host = await newHost();
    const token = await bearer();
    await as(admin).settings.update({ "prometheus.url": `http://127.0.0.1:${address.port}`, "prometheus.timeoutMs": 500 });
    try {
      const started = Date.now();
      const update = fetch(`${app.url}/hosts/${host.id}/metrics:update`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      });
      // While the update waits on the silent socket, the rest of the app answers.
      const [page, ready] = await Promise.all([
        fetch(`${app.url}/hosts/${host.id}`, { headers: { authorization: `Bearer ${token}`, accept: "text/html" } }),
        fetch(`${app.url}/readyz`),
      ]);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain(host.hostname);
      expect(ready.status).toBe(200);

      const res = await update;
      const elapsed = Date.now() - started;
      expect(res.status).toBe(504);
      expect(await res.json()).toMatchObject({ error: { code: "GATEWAY_TIMEOUT", state: "timeout" } });
      expect(elapsed).toBeGreaterThanOrEqual(450);
      expect(elapsed).toBeLessThan(5_000);
      expect(sockets.size).toBeGreaterThan(0);
      expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    } finally {
      await as(admin).settings.update({ "prometheus.timeoutMs": 5_000 });
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test("an anonymous client gets 401", async () => {
    const host = await newHost();
    const res = await fetch(`${app.url}/hosts/${host.id}/metrics:update`, {
      method: "POST",
      headers: { accept: "application/json" },
    });
    expect(res.status).toBe(401);
  });
});

describe("snapshot TTL cleanup", () => {
  test("deletes expired snapshots, and with two instances racing exactly one runs", async () => {
    const host = await newHost();
    await stub({ kind: "results", results: HEALTHY_NODE_RESULTS });
    await as(operator).metrics.update({ hostId: host.id });
    await db.orm.em.fork().execute("update metrics_snapshots set expires_at = now() - interval '1 second' where host_id = ?", [host.id]);
    expect(await as(operator).metrics.latest({ hostId: host.id })).toBeNull();

    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let entered!: () => void;
    const lockTaken = new Promise<void>((r) => {
      entered = r;
    });
    const first = runCleanup(db.orm.em.fork(), {
      whileLocked: async () => {
        entered();
        await held;
      },
    });
    await lockTaken;
    const second = await runCleanup(db.orm.em.fork());
    release();
    const firstResult = await first;
    expect(second).toEqual({ ran: false });
    expect(firstResult).toMatchObject({ ran: true });
    const [left] = await db.orm.em.fork().execute<{ n: string }[]>("select count(*) as n from metrics_snapshots where host_id = ?", [host.id]);
    expect(Number(left!.n)).toBe(0);
  });
});

describe("GET /metrics (the app's own metrics)", () => {
  test("serves Prometheus text with request, error, pool, event-loop and update-outcome series", async () => {
    await fetch(`${app.url}/healthz`);
    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const name of [
      "opsdesk_http_requests_total",
      "opsdesk_http_request_duration_seconds",
      "opsdesk_http_errors_total",
      "opsdesk_db_pool_connections",
      "opsdesk_nodejs_eventloop_lag_seconds",
      "opsdesk_metrics_updates_total",
    ]) {
      expect(text).toContain(name);
    }
  });

  test("requires the bearer token once one is set", async () => {
    await as(admin).settings.update({ "metrics.endpointToken": "scrape-secret-123" });
    try {
      expect((await fetch(`${app.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${app.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
      expect((await fetch(`${app.url}/metrics`, { headers: { authorization: "Bearer scrape-secret-123" } })).status).toBe(200);
    } finally {
      await as(admin).settings.update({ "metrics.endpointToken": "" });
    }
  });
});
