import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { SessionUser } from "../../server/auth/session-user";
import { createUser } from "../../server/services/users.service";
import { testConfig } from "../support/config";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { type RealPrometheus, realPrometheusMissing, startRealPrometheus } from "../support/real-prometheus";
import { callerAs } from "../support/trpc-context";

// CI installs prometheus and prometheus-node-exporter, so this always runs there.
const missing = realPrometheusMissing();
if (missing) console.warn(`real Prometheus tests skipped: ${missing}`);

let db: TestDatabase;
let prom: RealPrometheus;
const config = testConfig();
let operator: SessionUser;

describe.skipIf(missing !== null)("metrics from a real Prometheus and node_exporter", () => {
  beforeAll(async () => {
    db = await createTestDatabase();
    prom = await startRealPrometheus();
    const { user } = await createUser(
      db.orm.em.fork(),
      config,
      { id: null, email: "setup" },
      { email: "ops@metrics.test", role: "operator", password: "metrics-password-1" },
      { ip: null, userAgent: null, requestId: null },
    );
    operator = { id: user.id, email: user.email, role: "operator", mfaEnabled: false };
    await callerAs(db, { ...operator, role: "admin" }).settings.update({ "prometheus.url": prom.url });
  }, 60_000);
  afterAll(async () => {
    await prom?.stop();
    await db?.drop();
  });

  test("an update stores real CPU, memory, disk, load, uptime and network values", async () => {
    const caller = callerAs(db, operator);
    const host = await caller.hosts.create({ hostname: "node.metrics.test", prometheusInstance: prom.instance } as never);
    const snapshot = await caller.metrics.update({ hostId: host.id });
    expect(snapshot.outcome).toBe("ok");
    expect(snapshot.up).toBe(1);
    const v = snapshot.values;
    for (const pct of [v.cpuPct, v.memPct, v.diskPct]) {
      expect(pct).toBeTypeOf("number");
      expect(pct!).toBeGreaterThanOrEqual(0);
      expect(pct!).toBeLessThanOrEqual(100);
    }
    expect(v.memPct!).toBeGreaterThan(0);
    expect(v.load1).toBeTypeOf("number");
    expect(v.uptimeSeconds!).toBeGreaterThan(0);
    expect(v.netRxBps).toBeTypeOf("number");
    expect(snapshot.updatedBy).toEqual({ id: operator.id, email: operator.email });
    expect(new Date(snapshot.expiresAt).getTime() - new Date(snapshot.collectedAt).getTime()).toBe(86_400_000);
    expect(await caller.metrics.latest({ hostId: host.id })).toEqual(snapshot);
  });

  test("an instance Prometheus has never seen is reported as 'no series' and stores nothing", async () => {
    const caller = callerAs(db, operator);
    const host = await caller.hosts.create({ hostname: "ghost.metrics.test", prometheusInstance: "127.0.0.1:1" } as never);
    const error = await caller.metrics.update({ hostId: host.id }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCError);
    expect((error as TRPCError).code).toBe("PRECONDITION_FAILED");
    expect((error as TRPCError).message).toMatch(/no series.*instance label/i);
    expect(await caller.metrics.latest({ hostId: host.id })).toBeNull();
  });

  test("a Prometheus URL that answers passes Test connection with its version", async () => {
    const result = await callerAs(db, { ...operator, role: "admin" }).settings.testPrometheus({ url: prom.url });
    expect(result).toMatchObject({ ok: true, version: expect.stringMatching(/^\d+\.\d+/) });
  });
});
