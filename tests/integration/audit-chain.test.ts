import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordAuditEvent, verifyAuditChain } from "../../server/services/audit.service";
import { createTestDatabase, type TestDatabase } from "../support/database";

const SECRET = "audit-test-secret-audit-test-secret-0000";
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

async function appendEvents(count: number) {
  const em = db.orm.em.fork();
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const { id } = await recordAuditEvent(em, SECRET, {
      actor: { id: 1, email: "ops@example.com" },
      action: "HOST_UPDATED",
      targetType: "host",
      targetId: 100 + i,
      before: { port: 22, tags: ["a", "b"] },
      after: { port: 2222, tags: ["b"], nested: { z: 1, a: [1, { y: 2, x: 1 }] } },
      request: { ip: "127.0.0.1", userAgent: "vitest", requestId: `req-${i}` },
    });
    ids.push(id);
  }
  return ids;
}

describe("the audit log", () => {
  test("a fresh chain of events verifies", async () => {
    await appendEvents(5);
    const result = await verifyAuditChain(db.orm.em.fork(), SECRET);
    expect(result).toEqual({ ok: true, checked: 5, firstBrokenId: null });
  });

  test.each([
    ["UPDATE", "update audit_events set action = 'X'"],
    ["DELETE", "delete from audit_events"],
    ["TRUNCATE", "truncate audit_events"],
  ])("the database refuses %s on audit_events", async (_op, sql) => {
    await expect(db.orm.em.fork().execute(sql)).rejects.toThrow(/append-only/);
    const [{ count }] = await db.orm.em.fork().execute<{ count: string }[]>("select count(*) from audit_events");
    expect(Number(count)).toBeGreaterThan(0);
  });

  test("an event recorded in a transaction that rolls back leaves no row", async () => {
    const em = db.orm.em.fork();
    const before = await em.execute<{ count: string }[]>("select count(*) from audit_events");
    await expect(
      em.transactional(async (tx) => {
        await recordAuditEvent(tx, SECRET, { actor: { id: 1, email: "a@b.c" }, action: "HOST_DELETED" });
        throw new Error("the change failed");
      }),
    ).rejects.toThrow("the change failed");
    const after = await em.execute<{ count: string }[]>("select count(*) from audit_events");
    expect(after[0].count).toBe(before[0].count);
    expect((await verifyAuditChain(em, SECRET)).ok).toBe(true);
  });

  test("concurrent appends keep one unbroken chain", async () => {
    await Promise.all(Array.from({ length: 10 }, () => appendEvents(3)));
    const result = await verifyAuditChain(db.orm.em.fork(), SECRET);
    expect(result.ok).toBe(true);
    expect(result.checked).toBe(5 + 30);
  });

  test("the verifier points at a row altered behind the app's back", async () => {
    const ids = await appendEvents(3);
    const target = ids[1];
    const em = db.orm.em.fork();
    // A superuser can bypass the trigger; the chain still gives it away.
    await em.execute("alter table audit_events disable trigger audit_events_no_update_delete");
    await em.execute("update audit_events set after = '{\"port\": 22}'::jsonb where id = ?", [target]);
    await em.execute("alter table audit_events enable trigger audit_events_no_update_delete");
    const result = await verifyAuditChain(db.orm.em.fork(), SECRET);
    expect(result.ok).toBe(false);
    expect(result.firstBrokenId).toBe(target);
  });

  test("the verifier points at the event after a deleted one", async () => {
    const fresh = await createTestDatabase();
    try {
      const em = fresh.orm.em.fork();
      const ids: number[] = [];
      for (let i = 0; i < 4; i++) {
        ids.push((await recordAuditEvent(em, SECRET, { actor: { id: null, email: null }, action: `A${i}` })).id);
      }
      await em.execute("alter table audit_events disable trigger audit_events_no_update_delete");
      await em.execute("delete from audit_events where id = ?", [ids[2]]);
      const result = await verifyAuditChain(fresh.orm.em.fork(), SECRET);
      expect(result).toEqual({ ok: false, checked: 3, firstBrokenId: ids[3] });
    } finally {
      await fresh.drop();
    }
  });

  test("a different secret cannot produce a verifying chain", async () => {
    const result = await verifyAuditChain(db.orm.em.fork(), "another-secret-another-secret-another-0");
    expect(result.ok).toBe(false);
    expect(result.checked).toBe(1);
  });
});
