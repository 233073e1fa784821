import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ZodError } from "zod";
import { getSettings, SettingOverriddenError, updateSettings } from "../../server/services/settings.service";
import { verifyAuditChain } from "../../server/services/audit.service";
import { testConfig } from "../support/config";
import { createTestDatabase, type TestDatabase } from "../support/database";

let db: TestDatabase;
const config = testConfig();
const actor = { id: 1, email: "admin@example.com" };

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe("settings", () => {
  test("unset settings read as their documented defaults", async () => {
    const settings = await getSettings(db.orm.em.fork(), config);
    expect(settings["prometheus.timeoutMs"]).toBe(5_000);
    expect(settings["metrics.snapshotTtlSeconds"]).toBe(86_400);
    expect(settings["import.maxRows"]).toBe(200_000);
    expect(settings.overridden).toEqual([]);
  });

  test("an update is stored and audited with before and after", async () => {
    const updated = await updateSettings(db.orm.em.fork(), config, { "prometheus.timeoutMs": 2_500 }, actor, null);
    expect(updated["prometheus.timeoutMs"]).toBe(2_500);
    const [event] = await db.orm.em
      .fork()
      .execute("select action, before, after, actor_email from audit_events order by id desc limit 1");
    expect(event).toMatchObject({
      action: "SETTINGS_UPDATED",
      before: { "prometheus.timeoutMs": 5_000 },
      after: { "prometheus.timeoutMs": 2_500 },
      actor_email: "admin@example.com",
    });
    expect((await verifyAuditChain(db.orm.em.fork(), config.secret)).ok).toBe(true);
  });

  test("an invalid value is refused and nothing changes", async () => {
    await expect(
      updateSettings(db.orm.em.fork(), config, { "prometheus.timeoutMs": -1 }, actor, null),
    ).rejects.toBeInstanceOf(ZodError);
    await expect(updateSettings(db.orm.em.fork(), config, { "no.such.key": 1 }, actor, null)).rejects.toBeInstanceOf(
      ZodError,
    );
    expect((await getSettings(db.orm.em.fork(), config))["prometheus.timeoutMs"]).toBe(2_500);
  });

  test("PROMETHEUS_URL wins over the stored value and cannot be edited", async () => {
    const withEnv = testConfig({ prometheusUrl: "http://127.0.0.1:9090" });
    const settings = await getSettings(db.orm.em.fork(), withEnv);
    expect(settings["prometheus.url"]).toBe("http://127.0.0.1:9090");
    expect(settings.overridden).toContain("prometheus.url");
    await expect(
      updateSettings(db.orm.em.fork(), withEnv, { "prometheus.url": "http://10.0.0.1:9090" }, actor, null),
    ).rejects.toBeInstanceOf(SettingOverriddenError);
  });
});

describe("partial updates", () => {
  test("updating one setting leaves the others as they were", async () => {
    const em = db.orm.em.fork();
    await updateSettings(em, config, { "import.maxRows": 1234 }, actor, null);
    await updateSettings(db.orm.em.fork(), config, { "prometheus.timeoutMs": 777 }, actor, null);
    const settings = await getSettings(db.orm.em.fork(), config);
    expect(settings["import.maxRows"]).toBe(1234);
    expect(settings["prometheus.timeoutMs"]).toBe(777);
  });
});
