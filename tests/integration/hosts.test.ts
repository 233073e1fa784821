import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Role } from "../../server/auth/roles";
import type { SessionUser } from "../../server/auth/session-user";
import { verifyAuditChain } from "../../server/services/audit.service";
import { createUser } from "../../server/services/users.service";
import { testConfig } from "../support/config";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { callerAs } from "../support/trpc-context";

let db: TestDatabase;
const config = testConfig();
const users = new Map<Role, SessionUser>();
let seq = 0;
const uniqueName = (prefix = "web") => `${prefix}-${Date.now().toString(36)}-${++seq}.example.com`;

beforeAll(async () => {
  db = await createTestDatabase();
  for (const role of ["admin", "operator", "auditor", "viewer"] as const) {
    const { user } = await createUser(
      db.orm.em.fork(),
      config,
      { id: null, email: "setup" },
      { email: `${role}@hosts.test`, role, password: "hosts-password-123" },
      { ip: null, userAgent: null, requestId: null },
    );
    users.set(role, { id: user.id, email: user.email, role, mfaEnabled: false });
  }
});
afterAll(async () => {
  await db.drop();
});


function caller(role: Role) {
  return callerAs(db, users.get(role)!);
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "OK";
  } catch (error) {
    return error instanceof TRPCError ? error.code : String(error);
  }
}

describe("host CRUD", () => {
  test("an operator creates, reads, updates and deletes a host, each change audited", async () => {
    const op = caller("operator");
    const hostname = uniqueName();
    const created = await op.hosts.create({ hostname, ip: "10.1.2.3", tags: " Web; db ;WEB", bastion: "jump@bastion.example.com:2222" } as never);
    expect(created).toMatchObject({ hostname, ip: "10.1.2.3", port: 22, tags: ["web", "db"], version: 1, effectivePrometheusInstance: "10.1.2.3:9100" });
    const updated = await op.hosts.update({ id: created.id, version: 1, port: 2200 });
    expect(updated).toMatchObject({ port: 2200, version: 2 });
    expect(await op.hosts.get({ id: created.id })).toMatchObject({ port: 2200 });
    await op.hosts.delete({ id: created.id, version: 2 });
    expect(await codeOf(op.hosts.get({ id: created.id }))).toBe("NOT_FOUND");
    const events = await db.orm.em
      .fork()
      .execute<{ action: string; before: unknown; after: unknown }[]>(
        "select action, before, after from audit_events where target_type = 'host' and target_id = ? order by id",
        [String(created.id)],
      );
    expect(events.map((e) => e.action)).toEqual(["HOST_CREATED", "HOST_UPDATED", "HOST_DELETED"]);
    expect(events[1]).toMatchObject({ before: { port: 22 }, after: { port: 2200 } });
    expect((await verifyAuditChain(db.orm.em.fork(), config.secret)).ok).toBe(true);
  });

  test("viewers and auditors can read but not write", async () => {
    const host = await caller("admin").hosts.create({ hostname: uniqueName() } as never);
    for (const role of ["viewer", "auditor"] as const) {
      const c = caller(role);
      expect((await c.hosts.get({ id: host.id })).hostname).toBe(host.hostname);
      expect(await codeOf(c.hosts.create({ hostname: uniqueName() } as never))).toBe("FORBIDDEN");
      expect(await codeOf(c.hosts.update({ id: host.id, version: 1, port: 1 }))).toBe("FORBIDDEN");
      expect(await codeOf(c.hosts.delete({ id: host.id, version: 1 }))).toBe("FORBIDDEN");
    }
  });

  test("a stale version is refused with CONFLICT carrying the stored values, and nothing changes", async () => {
    const op = caller("operator");
    const host = await op.hosts.create({ hostname: uniqueName(), os: "debian 12" } as never);
    await op.hosts.update({ id: host.id, version: 1, os: "debian 13" });
    try {
      await op.hosts.update({ id: host.id, version: 1, os: "ubuntu" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(TRPCError);
      expect((error as TRPCError).code).toBe("CONFLICT");
      const current = ((error as TRPCError).cause as { details?: { current?: { os: string; version: number } } }).details?.current;
      expect(current).toMatchObject({ os: "debian 13", version: 2 });
    }
    expect(await codeOf(op.hosts.delete({ id: host.id, version: 1 }))).toBe("CONFLICT");
    expect((await op.hosts.get({ id: host.id })).os).toBe("debian 13");
  });

  test("a duplicate hostname is a CONFLICT and bad fields are BAD_REQUEST with field errors", async () => {
    const op = caller("operator");
    const hostname = uniqueName();
    await op.hosts.create({ hostname } as never);
    expect(await codeOf(op.hosts.create({ hostname } as never))).toBe("CONFLICT");
    expect(await codeOf(op.hosts.create({ hostname: "bad host!", port: 70000 } as never))).toBe("BAD_REQUEST");
    expect(await codeOf(op.hosts.create({ hostname: uniqueName(), sshUser: "root;rm -rf /" } as never))).toBe("BAD_REQUEST");
    expect(await codeOf(op.hosts.create({ hostname: uniqueName(), bastion: "$(reboot)" } as never))).toBe("BAD_REQUEST");
  });

  test("notes holding HTML are stored as plain text", async () => {
    const host = await caller("operator").hosts.create({ hostname: uniqueName(), notes: "<script>alert(1)</script>" } as never);
    expect((await caller("viewer").hosts.get({ id: host.id })).notes).toBe("<script>alert(1)</script>");
  });
});

describe("listing", () => {
  test("search, environment and tag filters combine, with a total count", async () => {
    const op = caller("operator");
    const marker = `mk${Date.now().toString(36)}`;
    await op.hosts.create({ hostname: uniqueName(`${marker}-a`), environment: "prod", tags: ["edge", "eu"] } as never);
    await op.hosts.create({ hostname: uniqueName(`${marker}-b`), environment: "prod", tags: ["edge"] } as never);
    await op.hosts.create({ hostname: uniqueName(`${marker}-c`), environment: "staging", tags: ["edge", "eu"] } as never);
    await op.hosts.create({ hostname: uniqueName("other"), notes: `mentions ${marker} in notes` } as never);
    const viewer = caller("viewer");
    expect((await viewer.hosts.list({ q: marker })).total).toBe(4);
    expect((await viewer.hosts.list({ q: marker, environment: "prod" })).total).toBe(2);
    const both = await viewer.hosts.list({ q: marker, tags: ["edge", "eu"] });
    expect(both.items.map((h) => h.hostname).sort()).toEqual(both.items.map((h) => h.hostname).sort());
    expect(both.total).toBe(2);
    expect((await viewer.hosts.list({ q: "100%_" })).total).toBe(0);
  });

  test("paging stays exact while rows are inserted: no duplicates, none missing", async () => {
    const op = caller("operator");
    const marker = `pg${Date.now().toString(36)}`;
    const initial: string[] = [];
    for (let i = 0; i < 25; i++) initial.push((await op.hosts.create({ hostname: `${marker}-${String(i).padStart(2, "0")}.test` } as never)).hostname);
    for (const sort of ["hostname", "-hostname", "created", "-created"] as const) {
      const seen: string[] = [];
      let cursor: string | undefined;
      let inserted = 0;
      do {
        const page = await caller("viewer").hosts.list({ q: marker, sort, limit: 7, cursor });
        seen.push(...page.items.map((h) => h.hostname));
        // Someone adds hosts while we page: before and after the current position.
        await op.hosts.create({ hostname: `${marker}-${sort}-new-${inserted++}.test` } as never);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(new Set(seen).size).toBe(seen.length);
      for (const name of initial) expect(seen).toContain(name);
    }
  });

  test("a limit above 100 is refused", async () => {
    expect(await codeOf(caller("viewer").hosts.list({ limit: 101 }))).toBe("BAD_REQUEST");
  });
});

describe("SSH command", () => {
  test("uses the default template, with -J only when there is a bastion", async () => {
    const op = caller("operator");
    const plain = await op.hosts.create({ hostname: uniqueName(), ip: "192.0.2.10", sshUser: "deploy", port: 2222 } as never);
    const jumped = await op.hosts.create({ hostname: uniqueName(), ip: "192.0.2.11", bastion: "ops@jump.example.com" } as never);
    expect((await caller("viewer").hosts.sshCommand({ id: plain.id })).command).toBe("ssh -p 2222 deploy@192.0.2.10");
    expect((await caller("viewer").hosts.sshCommand({ id: jumped.id })).command).toBe("ssh -J ops@jump.example.com -p 22 192.0.2.11");
  });

  test("a host template wins over the default, and copying it is audited", async () => {
    const op = caller("operator");
    const host = await op.hosts.create({ hostname: uniqueName(), sshTemplate: "ssh -l {{user}} {{hostname}}", sshUser: "ops" } as never);
    const viewer = caller("viewer");
    expect((await viewer.hosts.sshCommand({ id: host.id })).command).toBe(`ssh -l ops ${host.hostname}`);
    await viewer.hosts.recordSshCopy({ id: host.id });
    const [event] = await db.orm.em
      .fork()
      .execute("select action, actor_email, after from audit_events where action = 'SSH_COMMAND_COPIED' and target_id = ?", [String(host.id)]);
    expect(event).toMatchObject({ actor_email: "viewer@hosts.test", after: { command: `ssh -l ops ${host.hostname}` } });
  });

  test("a template with shell syntax is refused", async () => {
    expect(await codeOf(caller("operator").hosts.create({ hostname: uniqueName(), sshTemplate: "ssh {{host}}; reboot" } as never))).toBe(
      "BAD_REQUEST",
    );
  });
});

describe("CSV import", () => {
  const header = "hostname,ip,port,environment,tags,notes\n";

  test("a dry run reports actions and every error without writing; an apply writes all with audit", async () => {
    const op = caller("operator");
    const a = uniqueName("imp");
    const b = uniqueName("imp");
    const csv = `${header}${a},10.0.0.1,22,prod,web;eu,first\n${b},10.0.0.2,2222,prod,web,second\n`;
    const dry = await op.hosts.importCsv({ csv, dryRun: true });
    expect(dry).toMatchObject({ applied: false, created: 2, updated: 0, unchanged: 0, errorCount: 0 });
    expect((await op.hosts.list({ q: a })).total).toBe(0);

    const applied = await op.hosts.applyImport({ runId: dry.runId });
    expect(applied).toMatchObject({ applied: true, created: 2 });
    expect((await op.hosts.getByHostname({ hostname: b })).port).toBe(2222);
    const [imported] = await db.orm.em
      .fork()
      .execute("select after from audit_events where action = 'HOSTS_IMPORTED' and target_id = ?", [dry.runId]);
    expect(imported).toMatchObject({ after: { created: 2, sha256: dry.sha256 } });
    expect(await codeOf(op.hosts.applyImport({ runId: dry.runId }))).toBe("CONFLICT");

    const again = await op.hosts.importCsv({ csv: `${header}${a},10.0.0.1,22,prod,web;eu,first\n${b},10.0.0.2,22,prod,web,second\n`, dryRun: false });
    expect(again).toMatchObject({ applied: true, created: 0, updated: 1, unchanged: 1 });
    expect(again.preview.find((p) => p.hostname === b)).toMatchObject({ action: "update", changedFields: ["port"] });
    expect((await verifyAuditChain(db.orm.em.fork(), config.secret)).ok).toBe(true);
  });

  test("an apply with any error writes nothing", async () => {
    const op = caller("operator");
    const good = uniqueName("imp");
    const csv = `${header}${good},10.0.0.3,22,prod,,ok\nbad host!,10.0.0.4,22,prod,,\n${uniqueName("imp")},not-an-ip,99999,,,\n`;
    const result = await op.hosts.importCsv({ csv, dryRun: false });
    expect(result.applied).toBe(false);
    expect(result.errors.map((e) => [e.line, e.column])).toEqual([
      [3, "hostname"],
      [4, "ip"],
      [4, "port"],
    ]);
    expect((await op.hosts.list({ q: good })).total).toBe(0);
  });

  test("a column absent from the file leaves that field alone", async () => {
    const op = caller("operator");
    const hostname = uniqueName("imp");
    await op.hosts.create({ hostname, notes: "keep me", os: "debian" } as never);
    const result = await op.hosts.importCsv({ csv: `hostname;os\n${hostname};alpine\n`, dryRun: false });
    expect(result).toMatchObject({ applied: true, updated: 1 });
    expect(await op.hosts.getByHostname({ hostname })).toMatchObject({ os: "alpine", notes: "keep me" });
  });

  test("a file over the size limit is refused with PAYLOAD_TOO_LARGE before parsing", async () => {
    const op = caller("admin");
    await op.settings.update({ "import.maxBytes": 2048 });
    try {
      const csv = `${header}${"x".repeat(3000)}`;
      expect(await codeOf(op.hosts.importCsv({ csv, dryRun: true }))).toBe("PAYLOAD_TOO_LARGE");
      await op.settings.update({ "import.maxRows": 2 });
      const rows = `${header}${uniqueName()}\n${uniqueName()}\n${uniqueName()}\n`;
      expect(await codeOf(op.hosts.importCsv({ csv: rows, dryRun: true }))).toBe("PAYLOAD_TOO_LARGE");
    } finally {
      await op.settings.update({ "import.maxBytes": 20 * 1024 * 1024, "import.maxRows": 200_000 });
    }
  });
});

describe("CSV export", () => {
  test("exports the filtered list with the import's columns, safe against formulas", async () => {
    const { exportHostsCsv } = await import("../../server/services/hosts/host-export");
    const marker = `ex${Date.now().toString(36)}`;
    await caller("operator").hosts.create({ hostname: `${marker}.test`, notes: "=HYPERLINK(\"http://x\")", tags: ["a", "b"] } as never);
    let csv = "";
    for await (const chunk of exportHostsCsv(db.orm.em.fork(), { q: marker })) csv += chunk;
    const lines = csv.trim().split("\r\n");
    expect(lines[0]).toBe("hostname,ip,port,ssh_user,bastion,environment,os,tags,prometheus_instance,notes,ssh_template");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`${marker}.test`);
    expect(lines[1]).toContain("a;b");
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://x"")"`);
  });
});
