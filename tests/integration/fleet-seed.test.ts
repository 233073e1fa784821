import { createHash } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordAuditEvent, verifyAuditChain } from "../../server/services/audit.service";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { type FleetSeed, seedFleet, TEST_APP_SECRET } from "../support/fleet-seed";
import { makeTempDir } from "../support/temp-dir";

let db: TestDatabase;
let seed: FleetSeed;
const artifactDir = makeTempDir("opsdesk-fleet-artifacts-");

beforeAll(async () => {
  db = await createTestDatabase();
  // An event already in the log: the seed must chain onto it, not start a second chain.
  await recordAuditEvent(db.orm.em.fork(), TEST_APP_SECRET, { actor: { id: null, email: "system" }, action: "SETTINGS_UPDATED" });
  seed = await seedFleet(db.url, { artifactDir });
  console.log(`fleet seeded in ${Math.round(seed.timingsMs.total)} ms:`, JSON.stringify(seed.timingsMs, (_k, v) => (typeof v === "number" ? Math.round(v) : v)));
}, 120_000);
afterAll(async () => {
  await db?.drop();
  rmSync(artifactDir, { recursive: true, force: true });
});

const count = async (sql: string, params: unknown[] = []) => {
  const [row] = await db.orm.em.fork().execute<{ n: string }[]>(sql, params);
  return Number(row?.n);
};

describe("the fleet seeder", () => {
  test("writes 10,000 hosts, 100 artifacts on one host and 100,000 audit events", async () => {
    expect(await count("select count(*) as n from hosts")).toBe(10_000);
    expect(seed.hostCount).toBe(10_000);
    expect(await count("select count(*) as n from artifacts where host_id = ?", [seed.artifactHostId])).toBe(100);
    expect(await count("select count(*) as n from artifacts")).toBe(100);
    expect(await count("select count(*) as n from audit_events")).toBe(100_001);
    expect(seed.auditLastId - seed.auditFirstId + 1).toBe(100_000);
    expect(seed.hostIds).toContain(seed.firstHostId);
    expect(seed.hostIds).toContain(seed.lastHostId);
  });

  test("the whole audit log, the earlier event included, verifies as one chain", { timeout: 60_000 }, async () => {
    const result = await verifyAuditChain(db.orm.em.fork(), TEST_APP_SECRET);
    expect(result).toEqual({ ok: true, checked: 100_001, firstBrokenId: null });
  });

  test("the chain does not verify under another secret", async () => {
    const result = await verifyAuditChain(db.orm.em.fork(), "some-other-secret-some-other-secret-0000", 100);
    expect(result.ok).toBe(false);
  });

  test("hosts look like a real fleet: tags from the pool, most with IPs, some behind bastions, every environment", async () => {
    const em = db.orm.em.fork();
    const [stats] = await em.execute<{ with_ip: string; with_bastion: string; envs: string; min_tags: number }[]>(
      `select count(ip) as with_ip, count(bastion) as with_bastion, count(distinct environment) as envs,
        min(cardinality(tags)) as min_tags from hosts`,
    );
    expect(Number(stats!.with_ip)).toBeGreaterThan(9_000);
    expect(Number(stats!.with_bastion)).toBeGreaterThan(1_000);
    expect(Number(stats!.envs)).toBe(seed.environments.length);
    expect(stats!.min_tags).toBeGreaterThanOrEqual(3);
    const tags = await em.execute<{ tag: string }[]>("select distinct unnest(tags) as tag from hosts");
    for (const { tag } of tags) expect(seed.tags).toContain(tag);
  });

  test("audit events span the period in id order, with many actions and every seeded actor", async () => {
    const em = db.orm.em.fork();
    const [span] = await em.execute<{ unordered: string; actions: string; actors: string }[]>(
      `select count(*) filter (where at < prev_at) as unordered, count(distinct action) as actions, count(distinct actor_id) as actors
       from (select at, action, actor_id, lag(at) over (order by id) as prev_at from audit_events where id >= ?) e`,
      [seed.auditFirstId],
    );
    expect(Number(span!.unordered)).toBe(0);
    expect(Number(span!.actions)).toBeGreaterThanOrEqual(12);
    expect(Number(span!.actors)).toBe(seed.users.length);
  });

  test("each artifact has a real file under artifactDir matching its size and sha256", async () => {
    const rows = await db.orm.em
      .fork()
      .execute<{ stored_name: string; size_bytes: string; sha256: string }[]>("select stored_name, size_bytes, sha256 from artifacts");
    for (const row of rows) {
      const bytes = readFileSync(path.join(artifactDir, row.stored_name));
      expect(bytes.length).toBe(Number(row.size_bytes));
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(row.sha256);
    }
  });

  test("the seeded admin can be found by the returned id", async () => {
    const [admin] = await db.orm.em.fork().execute<{ email: string; role: string }[]>("select email, role from users where id = ?", [seed.adminUserId]);
    expect(admin).toEqual({ email: seed.adminEmail, role: "admin" });
  });
});
