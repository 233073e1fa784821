import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { migrateUp, type Orm, openOrm } from "../../db/orm";

export type TestDatabase = { url: string; orm: Orm; drop: () => Promise<void> };

/** A fresh, migrated database for one test file; `drop()` removes it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject("postgresUrl");
  const name = `opsdesk_test_${randomBytes(6).toString("hex")}`;
  await withAdminClient(serverUrl, (client) => client.query(`create database "${name}"`));
  const url = withDatabase(serverUrl, name);
  const orm = await openOrm(url);
  await migrateUp(orm);
  return {
    url,
    orm,
    drop: async () => {
      await orm.close(true);
      await withAdminClient(serverUrl, (client) => client.query(`drop database if exists "${name}" with (force)`));
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function withAdminClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabase(url, "postgres") });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
