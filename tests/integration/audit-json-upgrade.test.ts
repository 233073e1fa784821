import { afterAll, beforeAll, expect, test } from "vitest";
import { recordAuditEvent, verifyAuditChain } from "../../server/services/audit.service";
import { createTestDatabase, type TestDatabase } from "../support/database";

/**
 * Events written while before/after were jsonb keep verifying after the migration that
 * makes them json (ADR 013), and the chain goes on from them.
 */
const SECRET = "audit-upgrade-secret-audit-upgrade-secret";
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

const event = (i: number) => ({
  actor: { id: 1, email: "ops@example.com" },
  action: "HOST_UPDATED",
  targetType: "host",
  targetId: i,
  before: { port: 22, "10": "ten", "9": "nine", tags: ["b", "a"] },
  after: { port: 2222, nested: { z: 1.5, a: [1, { y: "é\n", x: null }] } },
  request: { ip: "::1", userAgent: "vitest", requestId: `req-${i}` },
});

test("events written as jsonb still verify once the columns are json, and new ones chain on", async () => {
  const migrator = db.orm.getMigrator();
  await migrator.down({ to: "Migration20261125050000ImportRunsLarge" });
  const [{ type }] = await db.orm.em.fork().execute<{ type: string }[]>(
    "select data_type as type from information_schema.columns where table_name = 'audit_events' and column_name = 'after'",
  );
  expect(type).toBe("jsonb");
  for (let i = 0; i < 3; i++) await recordAuditEvent(db.orm.em.fork(), SECRET, event(i));

  await migrator.up();
  const [{ type: upgraded }] = await db.orm.em.fork().execute<{ type: string }[]>(
    "select data_type as type from information_schema.columns where table_name = 'audit_events' and column_name = 'after'",
  );
  expect(upgraded).toBe("json");
  for (let i = 3; i < 6; i++) await recordAuditEvent(db.orm.em.fork(), SECRET, event(i));
  expect(await verifyAuditChain(db.orm.em.fork(), SECRET)).toEqual({ ok: true, checked: 6, firstBrokenId: null });
});
