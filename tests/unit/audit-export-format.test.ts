import { describe, expect, test } from "vitest";
import { canonicalAuditContent, canonicalJson } from "../../server/services/audit-encoding";
import { type AuditExportRow, auditCsvLine, auditJsonLine } from "../../server/services/audit-query.service";

/**
 * The canonical form as documented in docs/audit-verification.md, written the simple way:
 * a copy with keys sorted at every depth, then JSON.stringify. canonicalJson (written for
 * speed) must always agree with it.
 */
function referenceCanonicalJson(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v instanceof Date) return v.toISOString();
    if (v && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v).sort()) {
        const item = (v as Record<string, unknown>)[key];
        if (item !== undefined) out[key] = sortKeys(item);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(sortKeys(value)) ?? "null";
}

/** The export's fast serialisers must produce exactly what the hash chain was computed over. */
const VALUES: unknown[] = [
  null,
  0,
  -1.5,
  1e21,
  "",
  "=cmd|' /C calc'!A0\nline",
  "unicode é 😀 \u2028 \u0000",
  [],
  [1, null, "a", { b: 2, a: 1 }],
  {},
  { b: 1, a: { d: [3, { z: 1, y: null }], c: "x" }, "": "empty key", Z: true, é: false, "10": 1, "9": 2 },
];

describe("canonicalJson", () => {
  test.each(VALUES.map((v) => [JSON.stringify(v), v]))("matches the reference form for %s", (_name, value) => {
    expect(canonicalJson(value)).toBe(referenceCanonicalJson(value));
  });
});

const row = (over: Partial<AuditExportRow>): AuditExportRow => ({
  id: "7",
  at: "2026-11-25T10:00:00.000Z",
  actor_id: 3,
  actor_email: "a@b.c",
  action: "HOST_UPDATED",
  target_type: "host",
  target_id: "1",
  before: null,
  after: { a: 1 },
  ip: "10.0.0.1",
  user_agent: "ua",
  request_id: "req",
  outcome: "success",
  prev_hash: "0".repeat(64),
  hash: "f".repeat(64),
  ...over,
});

describe("export lines", () => {
  test("CSV: null empty, empty string quoted, guard added for formula and ' starts", () => {
    const line = auditCsvLine(row({ actor_email: null, request_id: "", target_id: "'=x", user_agent: "@SUM(1)", after: -5 }));
    expect(line).toBe(
      `7,2026-11-25T10:00:00.000Z,3,,HOST_UPDATED,host,''=x,null,'-5,10.0.0.1,'@SUM(1),"",success,${"0".repeat(64)},${"f".repeat(64)}\r\n`,
    );
  });

  test("JSONL: one parseable line with every column", () => {
    const line = auditJsonLine(row({ user_agent: 'quote " and\nnewline' }));
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toContain("\n");
    expect(JSON.parse(line)).toMatchObject({ id: 7, user_agent: 'quote " and\nnewline', after: { a: 1 }, before: null });
  });
});

test("canonicalJson matches the reference form on random nested values", () => {
  const keys = ["a", "B", "10", "9", "0", "4294967295", "01", "é", "", "-1", "1.5"];
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const value = (depth: number): unknown => {
    const kind = rand(depth > 3 ? 4 : 6);
    if (kind === 0) return null;
    if (kind === 1) return rand(1000) - 500;
    if (kind === 2) return keys[rand(keys.length)];
    if (kind === 3) return rand(2) === 0;
    if (kind === 4) return Array.from({ length: rand(4) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: rand(6) }, () => [keys[rand(keys.length)]!, value(depth + 1)]));
  };
  for (let i = 0; i < 2_000; i++) {
    const v = JSON.parse(JSON.stringify(value(0))) as unknown;
    expect(canonicalJson(v)).toBe(referenceCanonicalJson(v));
  }
});

test("an event's hashed content is the reference canonical JSON of its fields", () => {
  const base = {
    at: new Date("2026-11-25T10:00:00.123Z"),
    actorId: 3,
    actorEmail: "a@b.c",
    action: "HOST_UPDATED",
    targetType: "host",
    targetId: "17",
    before: { port: 22, tags: ["b", "a"] },
    after: { port: 2222, tags: ["a"], note: 'quote " é \n' },
    ip: "::1",
    userAgent: "curl/8",
    requestId: "req-1",
    outcome: "success",
  };
  const variants = [
    base,
    { ...base, actorId: null, actorEmail: null, targetType: null, targetId: null, ip: null, userAgent: null, requestId: null },
    { ...base, before: null, after: undefined },
    { ...base, before: false, after: 0 },
    { ...base, after: VALUES[VALUES.length - 1] },
  ];
  for (const event of variants) {
    const reference = referenceCanonicalJson({ ...event, at: event.at.toISOString(), before: event.before ?? null, after: event.after ?? null });
    expect(canonicalAuditContent(event)).toBe(reference);
  }
});
