import { TRPCError } from "@trpc/server";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { SessionUser } from "../../server/auth/session-user";
import { verifyAuditChain } from "../../server/services/audit.service";
import { knownHostnames } from "../../server/services/hosts/host-import-batch";
import { StatementQueue } from "../../server/services/pg-copy";
import { createUser } from "../../server/services/users.service";
import { testConfig } from "../support/config";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { callerAs } from "../support/trpc-context";

/**
 * Imports larger than one batch (2,000 rows): batches are written with binary COPY while
 * the next is parsed, so these check what that must not change — file order, one chained
 * audit event per host, exact values, all or nothing.
 */
let db: TestDatabase;
const config = testConfig();
let operator: SessionUser;
let sql: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  const { user } = await createUser(
    db.orm.em.fork(),
    config,
    { id: null, email: "setup" },
    { email: "operator@bulk.test", role: "operator", password: "bulk-password-123" },
    { ip: null, userAgent: null, requestId: null },
  );
  operator = { id: user.id, email: user.email, role: "operator", mfaEnabled: false };
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
});
afterAll(async () => {
  await sql.end();
  await db.drop();
});

const op = () => callerAs(db, operator);
const header = "hostname,ip,port,environment,tags,notes\n";
const line = (prefix: string, i: number, port = 22) => `${prefix}-${i}.bulk.test,10.9.${i >> 8}.${i & 255},${port},prod,web;eu,host ${i}\n`;

async function count(sqlText: string, params: unknown[]): Promise<number> {
  const { rows } = await sql.query<{ n: string }>(sqlText, params);
  return Number(rows[0]!.n);
}

describe("imports spanning several batches", () => {
  test("creates, updates and unchanged rows come out in file order, each written host with its own chained audit event", async () => {
    const prefix = "mix";
    // Existing hosts at the start, across a batch boundary and at the very end.
    const existing = [3, 2_001, 4_999];
    for (const i of existing) await op().hosts.create({ hostname: `${prefix}-${i}.bulk.test`, ip: `10.9.${i >> 8}.${i & 255}`, port: 22, environment: "prod", tags: ["web", "eu"], notes: `host ${i}` } as never);
    let csv = header;
    for (let i = 0; i < 5_000; i++) csv += line(prefix, i, i === 2_001 || i === 4_999 ? 2222 : 22);

    const result = await op().hosts.importCsv({ csv, dryRun: false, fileName: "mix.csv" });
    expect(result).toMatchObject({ applied: true, totalRows: 5_000, created: 4_997, updated: 2, unchanged: 1, errorCount: 0 });
    expect(result.preview).toHaveLength(500);
    expect(result.preview.map((p) => p.line)).toEqual(Array.from({ length: 500 }, (_, i) => i + 2));
    expect(result.preview[3]).toMatchObject({ hostname: `${prefix}-3.bulk.test`, action: "unchanged" });

    expect(await count("select count(*) as n from hosts where hostname like 'mix-%'", [])).toBe(5_000);
    expect(await count("select count(*) as n from hosts where hostname like 'mix-%' and port = 2222", [])).toBe(2);
    // Every created host has exactly one HOST_CREATED event naming its id, holding its values.
    const mismatched = await count(
      `select count(*) as n from hosts h
       left join audit_events e on e.action = 'HOST_CREATED' and e.target_type = 'host' and e.target_id = h.id::text
       where h.hostname like 'mix-%' and h.version = 1 and h.hostname not in ('mix-3.bulk.test', 'mix-2001.bulk.test', 'mix-4999.bulk.test')
         and (e.id is null or e.after->>'hostname' <> h.hostname or (e.after->>'port')::int <> h.port
              or e.after->>'ip' <> h.ip or e.after->>'notes' <> h.notes or e.after->'tags'->>0 <> h.tags[1])`,
      [],
    );
    expect(mismatched).toBe(0);
    // 3 created by hand above, 4,997 by the import.
    expect(await count("select count(*) as n from audit_events where action = 'HOST_CREATED' and after->>'hostname' like 'mix-%'", [])).toBe(5_000);
    const updates = await sql.query<{ after: { port: number; via: string }; before: { port: number } }>(
      "select before, after from audit_events where action = 'HOST_UPDATED' and target_id in (select id::text from hosts where hostname like 'mix-%') and after->>'via' = 'csv-import' order by id",
    );
    expect(updates.rows).toEqual([
      { before: { port: 22 }, after: { port: 2222, via: "csv-import" } },
      { before: { port: 22 }, after: { port: 2222, via: "csv-import" } },
    ]);
    // The per-host events come in file order, before the import's own event.
    const order = await sql.query<{ action: string; hostname: string | null }>(
      "select action, coalesce(after->>'hostname', '') as hostname from audit_events where id >= (select min(id) from audit_events where after->>'hostname' = 'mix-0.bulk.test') order by id",
    );
    const hostEvents = order.rows.filter((r) => r.action === "HOST_CREATED").map((r) => Number(r.hostname!.split("-")[1]!.split(".")[0]));
    expect(hostEvents).toEqual([...hostEvents].sort((a, b) => a - b));
    expect(order.rows.at(-1)!.action).toBe("HOSTS_IMPORTED");
    expect(await verifyAuditChain(db.orm.em.fork(), config.secret)).toMatchObject({ ok: true });
  });

  test("an error in the last batch rolls back the batches already written", async () => {
    let csv = header;
    for (let i = 0; i < 4_500; i++) csv += line("late", i);
    csv += "late-bad.bulk.test,10.9.0.300,22,prod,,\n";
    const eventsBefore = await count("select count(*) as n from audit_events", []);

    const result = await op().hosts.importCsv({ csv, dryRun: false });
    expect(result).toMatchObject({ applied: false, errorCount: 1 });
    expect(result.errors).toEqual([{ line: 4_502, column: "ip", message: expect.stringMatching(/IP/i) }]);
    expect(await count("select count(*) as n from hosts where hostname like 'late-%'", [])).toBe(0);
    expect(await count("select count(*) as n from audit_events", [])).toBe(eventsBefore);
  });

  test("values that other formats would need to escape are stored exactly", async () => {
    const notes = 'tab\there, back\\slash \\N, "quoted", line\nbreak, émoji 😀, =formula';
    const csv =
      "hostname,ip,port,ssh_user,bastion,environment,os,tags,prometheus_instance,ssh_template,notes\n" +
      `exact-1.bulk.test,2001:db8::1,2200,deploy,jump@bastion.example:2222,stage,"Debian 12 ""bookworm""",b;A;a,exact-1:9100,ssh -p {{port}} {{user}}@{{host}},"${notes.replace(/"/g, '""')}"\n` +
      "exact-2.bulk.test,,,,,,,,,,\n";
    expect(await op().hosts.importCsv({ csv, dryRun: false })).toMatchObject({ applied: true, created: 2 });
    expect(await op().hosts.getByHostname({ hostname: "exact-1.bulk.test" })).toMatchObject({
      ip: "2001:db8::1",
      port: 2200,
      sshUser: "deploy",
      bastion: "jump@bastion.example:2222",
      environment: "stage",
      os: 'Debian 12 "bookworm"',
      tags: ["b", "a"],
      prometheusInstance: "exact-1:9100",
      sshTemplate: "ssh -p {{port}} {{user}}@{{host}}",
      notes,
      version: 1,
    });
    expect(await op().hosts.getByHostname({ hostname: "exact-2.bulk.test" })).toMatchObject({
      ip: null,
      port: 22,
      sshUser: null,
      bastion: null,
      environment: null,
      os: null,
      tags: [],
      prometheusInstance: null,
      sshTemplate: null,
      notes: "",
    });
    const { rows } = await sql.query<{ after: { notes: string } }>(
      "select after from audit_events where action = 'HOST_CREATED' and after->>'hostname' = 'exact-1.bulk.test'",
    );
    expect(rows[0]!.after.notes).toBe(notes);
  });

  test("a host added by someone else while the import runs makes it a CONFLICT, with nothing written", async () => {
    // Another writer inserts a hostname from the file and has not committed yet: the
    // import does not see it, and its COPY waits on the unique index until the other
    // transaction ends.
    const csv = `${header}${line("race", 0)}${line("race", 1)}${line("race", 2)}`;
    const error = await importWhileUncommitted("insert into hosts (hostname) values ('race-1.bulk.test')", csv);
    expectConflict(error);
    expect(await count("select count(*) as n from hosts where hostname like 'race-%'", [])).toBe(1);
    expect(await count("select count(*) as n from audit_events where after->>'hostname' like 'race-%'", [])).toBe(0);
  });

  test("a host edited by someone else while the import runs makes it a CONFLICT, and their edit stands", async () => {
    await op().hosts.importCsv({ csv: `${header}${line("edit", 0)}${line("edit", 1)}`, dryRun: false });
    // The edit is not committed yet: the import classifies edit-1 against the stored
    // version, and its UPDATE waits on the row until the edit commits.
    const csv = `${header}${line("edit", 0)}${line("edit", 1, 2222)}${line("edit", 2)}`;
    const error = await importWhileUncommitted("update hosts set notes = 'edited meanwhile', version = version + 1 where hostname = 'edit-1.bulk.test'", csv);
    expectConflict(error);
    expect(await op().hosts.getByHostname({ hostname: "edit-1.bulk.test" })).toMatchObject({ notes: "edited meanwhile", port: 22, version: 2 });
    expect(await count("select count(*) as n from hosts where hostname = 'edit-2.bulk.test'", [])).toBe(0);
    expect(await count("select count(*) as n from audit_events where action = 'HOST_UPDATED' and target_id = (select id::text from hosts where hostname = 'edit-1.bulk.test')", [])).toBe(0);
  });
});

describe("stored hostnames read up front", () => {
  test("are kept when there are at most as many as the limit, and not at all when there are more", async () => {
    await sql.query("insert into hosts (hostname) select 'known-' || g || '.bulk.test' from generate_series(1, 120) g");
    const statements = new StatementQueue(sql);
    const known = await knownHostnames(statements, 100_000);
    expect(known?.has("known-1.bulk.test")).toBe(true);
    expect(known?.has("known-120.bulk.test")).toBe(true);
    expect(known?.has("known-121.bulk.test")).toBe(false);
    // More stored hosts than the limit: none are kept (the import then looks every row up),
    // whether found by reading or from the planner's estimate.
    expect(await knownHostnames(statements, 30)).toBeNull();
    await sql.query("analyze hosts");
    expect(await knownHostnames(statements, 30)).toBeNull();
  });

  test("a small file in a larger fleet still finds every stored host it names", async () => {
    await sql.query("insert into hosts (hostname, port) select 'fleet-' || g || '.bulk.test', 22 from generate_series(1, 300) g");
    // About 90 bytes: at most 45 rows, so the 300+ stored hostnames are not read up front.
    const csv = "hostname,port\nfleet-7.bulk.test,2200\nfleet-8.bulk.test,22\nfleet-new.bulk.test,22\n";
    const result = await op().hosts.importCsv({ csv, dryRun: false });
    expect(result).toMatchObject({ applied: true, created: 1, updated: 1, unchanged: 1 });
    expect(await op().hosts.getByHostname({ hostname: "fleet-7.bulk.test" })).toMatchObject({ port: 2200, version: 2 });
  });
});

/**
 * Applies `csv` while another transaction holds `change` uncommitted; commits it once the
 * import is waiting on its lock. Resolves with what the import threw ("applied" if nothing).
 */
async function importWhileUncommitted(change: string, csv: string): Promise<unknown> {
  const other = new pg.Client({ connectionString: db.url });
  await other.connect();
  try {
    await other.query("begin");
    await other.query(change);
    const outcome = op()
      .hosts.importCsv({ csv, dryRun: false })
      .then(
        () => "applied",
        (error: unknown) => error,
      );
    await waitFor(async () => (await count("select count(*) as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()", [])) > 0);
    await other.query("commit");
    return await outcome;
  } finally {
    await other.end();
  }
}

function expectConflict(error: unknown): void {
  expect(error).toBeInstanceOf(TRPCError);
  expect((error as TRPCError).code).toBe("CONFLICT");
  expect((error as TRPCError).message).toMatch(/run the import again/i);
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
