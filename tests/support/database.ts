import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { migrateUp, type Orm, openOrm } from "../../db/orm";

export type TestDatabase = { url: string; orm: Orm; drop: () => Promise<void> };

/**
 * A fresh, migrated database for one test file; `drop()` removes it. With `icuLocale`
 * (e.g. "en-US") its text sorts by that ICU locale instead of the server's default (the
 * embedded server is initialised with C; production servers often are not).
 */
export async function createTestDatabase(options: { icuLocale?: string } = {}): Promise<TestDatabase> {
  const serverUrl = inject("postgresUrl");
  const name = `opsdesk_test_${randomBytes(6).toString("hex")}`;
  const locale = options.icuLocale
    ? ` template template0 locale_provider icu icu_locale '${options.icuLocale.replace(/[^A-Za-z0-9-]/g, "")}'`
    : "";
  await withAdminClient(serverUrl, (client) => client.query(`create database "${name}"${locale}`));
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
