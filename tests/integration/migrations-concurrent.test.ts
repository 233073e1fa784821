import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, inject, test } from "vitest";
import { migrateUp, type Orm, openOrm } from "../../db/orm";
import { migrationsList } from "../../db/migrations";
import { withAdminClient, withDatabase } from "../support/database";

/** Two instances booting at the same moment on an empty database (ADR 020). */
describe("migrations run by two instances at once", () => {
  const serverUrl = inject("postgresUrl");
  const name = `opsdesk_test_${randomBytes(6).toString("hex")}`;
  const orms: Orm[] = [];

  afterAll(async () => {
    await Promise.all(orms.map((orm) => orm.close(true)));
    await withAdminClient(serverUrl, (client) => client.query(`drop database if exists "${name}" with (force)`));
  });

  test("apply every migration exactly once, and neither start fails", async () => {
    await withAdminClient(serverUrl, (client) => client.query(`create database "${name}"`));
    const url = withDatabase(serverUrl, name);
    orms.push(await openOrm(url), await openOrm(url));
    const [first, second] = await Promise.all(orms.map((orm) => migrateUp(orm)));
    const applied = [...first!, ...second!].sort();
    expect(applied).toEqual(migrationsList.map((m) => m.name).sort());
    const rows = await orms[0]!.em.getConnection().execute<{ n: string }[]>("select count(*) as n from mikro_orm_migrations");
    expect(Number(rows[0]!.n)).toBe(migrationsList.length);
  });
});
