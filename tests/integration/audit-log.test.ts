import { createHmac } from "node:crypto";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Role } from "../../server/auth/roles";
import type { SessionUser } from "../../server/auth/session-user";
import { type AuditEventInput, GENESIS_HASH, recordAuditEvents } from "../../server/services/audit.service";
import { type AppServer, startAppServer, trpc } from "../support/app-server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { makeUser } from "../support/identity";
import { callerAs } from "../support/trpc-context";

/**
 * The audit log as an auditor uses it: audit.list filters and keyset pages, the streamed
 * CSV/JSONL export (verifiable from the file alone), audit.verify, and who may do what.
 */
let db: TestDatabase;
let app: AppServer;
let secret: string;
const tokens = new Map<Role, string>();
const sessionUsers = new Map<Role, SessionUser>();

const FORMULA = "=cmd|' /C calc'!A0";
const request = { ip: "192.0.2.7", userAgent: "vitest-audit", requestId: "req-audit" };

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startAppServer(db);
  secret = app.runtime.config.secret;
  for (const role of ["admin", "operator", "auditor"] as const) {
    const user = await makeUser(db, app, role);
    sessionUsers.set(role, { id: user.id, email: user.email, role, mfaEnabled: false });
    const login = await trpc<{ accessToken: string }>(app.url, "auth.login", {
      mutation: true,
      input: { email: user.email, password: user.password },
    });
    tokens.set(role, login.data!.accessToken);
  }
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

const auditor = () => callerAs(db, sessionUsers.get("auditor")!, app.runtime);

async function record(inputs: AuditEventInput[]): Promise<number[]> {
  return (await recordAuditEvents(db.orm.em.fork(), secret, inputs)).map((r) => r.id);
}

function exportUrl(params: Record<string, string>): string {
  return `${app.url}/audit/export?${new URLSearchParams(params)}`;
}

async function exportAs(role: Role, params: Record<string, string>) {
  return fetch(exportUrl(params), { headers: { authorization: `Bearer ${tokens.get(role)}` } });
}

type ExportedEvent = {
  id: number;
  at: string;
  actor_id: number | null;
  actor_email: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  before: unknown;
  after: unknown;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  outcome: string;
  prev_hash: string;
  hash: string;
};

/**
 * An outside verifier, written from docs/audit-verification.md alone (it deliberately
 * uses nothing from the server's code): HMAC-SHA256(secret, prev_hash + "\n" + canonical).
 */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
function expectedHash(e: ExportedEvent): string {
  const canonical = JSON.stringify(
    sortKeys({
      at: e.at,
      actorId: e.actor_id,
      actorEmail: e.actor_email,
      action: e.action,
      targetType: e.target_type,
      targetId: e.target_id,
      before: e.before,
      after: e.after,
      ip: e.ip,
      userAgent: e.user_agent,
      requestId: e.request_id,
      outcome: e.outcome,
    }),
  );
  return createHmac("sha256", secret).update(`${e.prev_hash}\n${canonical}`).digest("hex");
}
/** An unfiltered export: every hash and every link from the genesis. Returns the first bad id, or null. */
function verifyExport(events: ExportedEvent[]): number | null {
  let prev = GENESIS_HASH;
  for (const e of events) {
    if (e.prev_hash !== prev || expectedHash(e) !== e.hash) return e.id;
    prev = e.hash;
  }
  return null;
}

describe("audit.list filters", () => {
  let ids: number[];
  let lateIds: number[];
  let between: string;

  beforeAll(async () => {
    ids = await record([
      { actor: { id: 901, email: "alice@filters.test" }, action: "HOST_CREATED", targetType: "fhost", targetId: "1", request },
      { actor: { id: 902, email: "bob@filters.test" }, action: "HOST_UPDATED", targetType: "fhost", targetId: "1", request },
      { actor: { id: 901, email: "alice@filters.test" }, action: "USER_UPDATED", targetType: "fuser", targetId: "7", request },
    ]);
    await new Promise((r) => setTimeout(r, 30));
    between = new Date(Date.now() - 10).toISOString();
    lateIds = await record([
      { actor: { id: 902, email: "bob@filters.test" }, action: "HOST_DELETED", targetType: "fhost", targetId: "2", request },
    ]);
  });

  const ours = (items: { id: number }[]) => items.map((i) => i.id).filter((id) => ids.includes(id) || lateIds.includes(id));

  test("actor: an email substring (any case) or a user id", async () => {
    const byEmail = await auditor().audit.list({ actor: "ALICE@filt" });
    expect(byEmail.items.every((e) => e.actorEmail?.includes("alice@filt"))).toBe(true);
    expect(ours(byEmail.items)).toEqual([ids[2], ids[0]]);
    const byId = await auditor().audit.list({ actor: "902" });
    expect(byId.items.every((e) => e.actorId === 902)).toBe(true);
    expect(ours(byId.items)).toEqual([lateIds[0], ids[1]]);
  });

  test("action: exact (case-insensitive) or a prefix with *", async () => {
    const exact = await auditor().audit.list({ action: "host_updated" });
    expect(exact.items.every((e) => e.action === "HOST_UPDATED")).toBe(true);
    expect(ours(exact.items)).toEqual([ids[1]]);
    const prefix = await auditor().audit.list({ action: "HOST_*", targetType: "fhost" });
    expect(prefix.items.map((e) => e.id)).toEqual([lateIds[0], ids[1], ids[0]]);
  });

  test("target type and target id", async () => {
    const type = await auditor().audit.list({ targetType: "fuser" });
    expect(type.items.map((e) => e.id)).toEqual([ids[2]]);
    const target = await auditor().audit.list({ targetType: "fhost", targetId: "1" });
    expect(target.items.map((e) => e.id)).toEqual([ids[1], ids[0]]);
  });

  test("time range: from and to are inclusive instants", async () => {
    const late = await auditor().audit.list({ targetType: "fhost", from: between });
    expect(late.items.map((e) => e.id)).toEqual(lateIds);
    const early = await auditor().audit.list({ targetType: "fhost", to: between });
    expect(early.items.map((e) => e.id)).toEqual([ids[1], ids[0]]);
    // A datetime-local value (no zone) is read as UTC; without seconds it covers its whole minute.
    const minute = (await auditor().audit.list({ targetType: "fhost", to: between.slice(0, 16) })).items.map((e) => e.id);
    expect(minute).toEqual(expect.arrayContaining([ids[1], ids[0]]));
    await expect(auditor().audit.list({ from: "yesterday" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  test("items carry every field, hashes included, with ISO dates", async () => {
    const [item] = (await auditor().audit.list({ targetType: "fuser" })).items;
    expect(item).toEqual({
      id: ids[2],
      at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      actorId: 901,
      actorEmail: "alice@filters.test",
      action: "USER_UPDATED",
      targetType: "fuser",
      targetId: "7",
      before: null,
      after: null,
      ip: "192.0.2.7",
      userAgent: "vitest-audit",
      requestId: "req-audit",
      outcome: "success",
      prevHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });
});

describe("audit.list pagination", () => {
  test("newest first, no duplicates or gaps while events are appended", async () => {
    const event = (i: number): AuditEventInput => ({ actor: { id: null, email: "pager" }, action: "PAGE_TEST", targetId: i });
    const seeded = await record(Array.from({ length: 23 }, (_, i) => event(i)));
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await auditor().audit.list({ action: "PAGE_TEST", cursor, limit: 5 });
      expect(page.items.length).toBeLessThanOrEqual(5);
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
      // Newer events arrive between page loads: they belong before page 1, never in a later page.
      await record([event(100 + pages), event(200 + pages)]);
    } while (cursor);
    expect(pages).toBe(5);
    expect(seen).toEqual([...seeded].reverse());
    await expect(auditor().audit.list({ cursor: "not-a-cursor" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(auditor().audit.list({ limit: 101 })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});

describe("GET /audit/export", () => {
  test("CSV: RFC 4180 quoting and formula-injection protection, verifiable cell by cell", async () => {
    const [id] = await record([
      {
        actor: { id: 77, email: "+mallory@csv.test" },
        action: "HOST_UPDATED",
        targetType: "csv-test",
        targetId: FORMULA,
        before: { notes: "plain", port: -22 },
        after: { notes: `${FORMULA}\nsecond line`, quote: 'say "hi", ok' },
        request: { ip: "192.0.2.8", userAgent: `${FORMULA}\nnext line`, requestId: "" },
      },
    ]);
    const res = await exportAs("auditor", { format: "csv", targetType: "csv-test" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="audit-[\d-]+\.csv"$/);
    const text = await res.text();

    // Every record ends with CRLF; the user agent's newline stays inside its quoted cell.
    expect(text.endsWith("\r\n")).toBe(true);
    expect(text).toContain(`"'${FORMULA}\nnext line"`);
    const lines = text.split("\r\n");
    expect(lines[0]).toBe("id,at,actor_id,actor_email,action,target_type,target_id,before,after,ip,user_agent,request_id,outcome,prev_hash,hash");

    // Strict RFC 4180 parsing; `quoting` tells a quoted empty cell ("") from an unquoted one (null).
    const records = parse(text, {
      record_delimiter: "\r\n",
      relax_quotes: false,
      cast: (value, context) => ({ value, quoted: context.quoting }),
    }) as unknown as { value: string; quoted: boolean }[][];
    expect(records).toHaveLength(2);
    for (const record of records) expect(record).toHaveLength(15);
    const row = records[1]!;
    const cell = (name: string) => row[records[0]!.findIndex((c) => c.value === name)]!;
    // No cell starts with a character a spreadsheet would run as a formula.
    for (const { value } of row) expect(value).not.toMatch(/^[=+\-@\t\r]/);
    expect(cell("id").value).toBe(String(id));
    expect(cell("target_id").value).toBe(`'${FORMULA}`);
    expect(cell("actor_email").value).toBe("'+mallory@csv.test");
    expect(cell("user_agent").value).toBe(`'${FORMULA}\nnext line`);
    expect(cell("request_id")).toEqual({ value: "", quoted: true }); // "" is not null
    expect(cell("target_type").value).toBe("csv-test");
    expect(JSON.parse(cell("after").value)).toEqual({ notes: `${FORMULA}\nsecond line`, quote: 'say "hi", ok' });

    // Decoded as the verification document says, the row's hash checks out.
    const decode = (name: string): string | null => {
      const { value, quoted } = cell(name);
      if (value === "" && !quoted) return null;
      return value.startsWith("'") ? value.slice(1) : value;
    };
    const event: ExportedEvent = {
      id: Number(decode("id")),
      at: decode("at")!,
      actor_id: Number(decode("actor_id")),
      actor_email: decode("actor_email"),
      action: decode("action")!,
      target_type: decode("target_type"),
      target_id: decode("target_id"),
      before: JSON.parse(decode("before")!),
      after: JSON.parse(decode("after")!),
      ip: decode("ip"),
      user_agent: decode("user_agent"),
      request_id: decode("request_id"),
      outcome: decode("outcome")!,
      prev_hash: decode("prev_hash")!,
      hash: decode("hash")!,
    };
    expect(event.request_id).toBe("");
    expect(expectedHash(event)).toBe(event.hash);
  });

  test("JSONL: one event per line, re-verifiable from the file and the secret alone", async () => {
    const res = await exportAs("auditor", { format: "jsonl" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="audit-[\d-]+\.jsonl"$/);
    const text = await res.text();
    const lines = text.trimEnd().split("\n");
    const events = lines.map((line) => JSON.parse(line) as ExportedEvent);
    expect(events.length).toBeGreaterThan(30);
    expect(verifyExport(events)).toBeNull();
    // The export's own audit record is its last line.
    expect(events.at(-1)).toMatchObject({ action: "AUDIT_EXPORTED", actor_email: sessionUsers.get("auditor")!.email });

    // One altered line is caught, at that line.
    const victim = Math.floor(events.length / 2);
    const altered = lines.map((line, i) =>
      i === victim ? JSON.stringify({ ...events[i], after: { tampered: true } }) : line,
    );
    expect(verifyExport(altered.map((line) => JSON.parse(line) as ExportedEvent))).toBe(events[victim]!.id);
    // A deleted line breaks the link to the next one.
    const withoutOne = events.filter((_, i) => i !== victim);
    expect(verifyExport(withoutOne)).toBe(events[victim + 1]!.id);
  });

  test("the export is audited, with its filters and format, before it streams", async () => {
    const res = await exportAs("auditor", { format: "jsonl", action: "HOST_CREATED", targetType: "fhost" });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trimEnd().split("\n").map((l) => JSON.parse(l) as ExportedEvent);
    expect(lines.every((e) => e.action === "HOST_CREATED" && e.target_type === "fhost")).toBe(true);
    const [event] = (await auditor().audit.list({ action: "AUDIT_EXPORTED", limit: 1 })).items;
    expect(event).toMatchObject({
      actorEmail: sessionUsers.get("auditor")!.email,
      targetType: "audit_events",
      after: { filters: { action: "HOST_CREATED", targetType: "fhost" }, format: "jsonl" },
      outcome: "success",
    });
    // Recorded before streaming: its id is lower than nothing the file could contain after it.
    expect(event!.id).toBeGreaterThan(Math.max(...lines.map((l) => l.id)));
  });

  test("the same filters as audit.list; bad ones are refused with 400", async () => {
    const listed = (await auditor().audit.list({ actor: "bob@filters", limit: 100 })).items.map((e) => e.id);
    const res = await exportAs("auditor", { format: "jsonl", actor: "bob@filters" });
    const exported = (await res.text())
      .trimEnd()
      .split("\n")
      .map((l) => (JSON.parse(l) as ExportedEvent).id);
    expect(exported).toEqual([...listed].reverse());
    expect((await exportAs("auditor", { format: "xml" })).status).toBe(400);
    expect((await exportAs("auditor", { format: "csv", from: "not a date" })).status).toBe(400);
  });

  test("auditor and admin allowed, operator 403 (audited), anonymous 401 or sent to sign in", async () => {
    expect((await exportAs("admin", { format: "csv", action: "NOTHING_LIKE_THIS" })).status).toBe(200);
    const denied = await exportAs("operator", { format: "csv" });
    expect(denied.status).toBe(403);
    const [refusal] = (await auditor().audit.list({ action: "ACCESS_DENIED", targetId: "GET /audit/export" })).items;
    expect(refusal).toMatchObject({ actorEmail: sessionUsers.get("operator")!.email, outcome: "denied" });

    const anonymous = await fetch(exportUrl({ format: "csv" }));
    expect(anonymous.status).toBe(401);
    const browser = await fetch(exportUrl({ format: "csv" }), { headers: { accept: "text/html" }, redirect: "manual" });
    expect(browser.status).toBe(303);
    expect(browser.headers.get("location")).toBe(`/login?redirectTo=${encodeURIComponent("/audit/export?format=csv")}`);

    const badToken = await fetch(exportUrl({ format: "csv" }), { headers: { authorization: "Bearer nope" } });
    expect(badToken.status).toBe(401);
  });

  test("a client that stops reading midway does not break the server", async () => {
    await record(
      Array.from({ length: 12_000 }, (_, i) => ({
        actor: { id: null, email: "bulk" },
        action: "BULK_TEST",
        after: { i, padding: "x".repeat(200) },
      })),
    );
    const controller = new AbortController();
    const res = await fetch(exportUrl({ format: "csv" }), {
      headers: { authorization: `Bearer ${tokens.get("auditor")}` },
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.cancel().catch(() => undefined);
    // The app still answers, and a full export afterwards is complete.
    const full = await exportAs("auditor", { format: "jsonl", action: "BULK_TEST" });
    expect((await full.text()).trimEnd().split("\n")).toHaveLength(12_000);
  });
});

describe("audit.verify and the procedures' authorization", () => {
  test("verify walks the whole chain", async () => {
    const [{ count }] = await db.orm.em.fork().execute<{ count: string }[]>("select count(*) from audit_events");
    const result = await auditor().audit.verify();
    expect(result.ok).toBe(true);
    expect(result.firstBrokenId).toBeNull();
    expect(result.checked).toBe(Number(count));
  });

  test("over HTTP: auditor allowed, operator 403, anonymous 401", async () => {
    expect((await trpc(app.url, "audit.list", { token: tokens.get("auditor"), input: { limit: 1 } })).status).toBe(200);
    expect((await trpc(app.url, "audit.verify", { token: tokens.get("auditor") })).status).toBe(200);
    expect((await trpc(app.url, "audit.list", { token: tokens.get("operator") })).status).toBe(403);
    expect((await trpc(app.url, "audit.verify", { token: tokens.get("operator") })).status).toBe(403);
    expect((await trpc(app.url, "audit.list", {})).status).toBe(401);
  });
});
