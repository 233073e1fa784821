import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { migrateUp, type Orm, openOrm } from "../../db/orm";
import { listAuditEvents } from "../../server/services/audit-query.service";
import { listHosts } from "../../server/services/hosts/host-list";
import { withAdminClient, withDatabase } from "../support/database";

/**
 * Migration 20261209000000 creates pg_trgm when it can. A database user that may not
 * create extensions (a managed PostgreSQL where the app does not own its database) must
 * still migrate and boot: the search indexes are left out and the filters still answer.
 */
const serverUrl = inject("postgresUrl");
const suffix = randomBytes(4).toString("hex");
const role = `opsdesk_limited_${suffix}`;
const database = `opsdesk_notrgm_${suffix}`;
const password = randomBytes(12).toString("hex");
let orm: Orm | undefined;
let canCreateRoles = false;

beforeAll(async () => {
  canCreateRoles = await withAdminClient(serverUrl, async (client) => {
    const { rows } = await client.query<{ ok: boolean }>("select rolsuper or rolcreaterole as ok from pg_roles where rolname = current_user");
    return Boolean(rows[0]?.ok);
  });
  if (!canCreateRoles) return;
  await withAdminClient(serverUrl, async (client) => {
    await client.query(`create role ${role} login password '${password}'`);
    // Owned by the administrator: the app's role may connect and create tables, not extensions.
    await client.query(`create database ${database}`);
    await client.query(`grant connect, temporary on database ${database} to ${role}`);
  });
  const admin = new URL(withDatabase(serverUrl, database));
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`grant usage, create on schema public to ${role}`);
  await client.end();
  const limited = new URL(admin);
  limited.username = role;
  limited.password = password;
  orm = await openOrm(limited.toString());
});

afterAll(async () => {
  await orm?.close(true);
  if (!canCreateRoles) return;
  await withAdminClient(serverUrl, async (client) => {
    await client.query(`drop database if exists ${database} with (force)`);
    await client.query(`drop role if exists ${role}`);
  });
});

describe("a database where pg_trgm may not be created", () => {
  test("migrates without the search indexes, and host search and the audit actor filter still answer", async (context) => {
    if (!canCreateRoles) {
      console.log("skipped: the test server's user may not create roles (needed to make a user without CREATE on the database)");
      context.skip();
    }
    await migrateUp(orm!);
    const em = orm!.em.fork();
    const [extension] = await em.execute<{ n: string }[]>("select count(*) as n from pg_extension where extname = 'pg_trgm'");
    expect(Number(extension!.n)).toBe(0);
    const trigram = await em.execute<{ indexname: string }[]>("select indexname from pg_indexes where indexdef like '%gin_trgm_ops%'");
    expect(trigram).toEqual([]);
    await em.execute("insert into hosts (hostname, notes) values ('search-me.example', 'rack 12')");
    expect((await listHosts(em, { q: "rch-m" })).items.map((h) => h.hostname)).toEqual(["search-me.example"]);
    expect((await listAuditEvents(em, { actor: "nobody@" })).items).toEqual([]);
  });
});
