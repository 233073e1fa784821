import { createHash, randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { hashPassword } from "../../server/auth/password";
import { AuditHasher, auditContentParts, canonicalJson } from "../../server/services/audit-encoding";
import { GENESIS_HASH } from "../../server/services/audit.service";
import { BinaryCopyRows, timestamptzField } from "../../server/services/pg-binary-copy";
import { copyIn, StatementQueue } from "../../server/services/pg-copy";

/**
 * A realistic fleet on a migrated database, for benchmarks, query-plan tests and
 * Playwright scripts (no vitest imports): thousands of hosts with tags, IPs and bastions,
 * a few users of every role, one host with many artifacts, and an audit log of 100,000
 * events that verifies as a chain under `secret`.
 *
 * Everything goes in through binary COPY in one transaction (a few seconds for the
 * defaults), holding the audit chain's advisory lock, so it may run beside a live app:
 * events the app appends meanwhile wait and chain onto the seeded ones. Values come from
 * a seeded generator: two runs with the same options produce the same fleet (ids aside).
 */

export type FleetSeedOptions = {
  hosts?: number;
  artifacts?: number;
  auditEvents?: number;
  /** The app's OPSDESK_SECRET: the audit chain is hashed with it. Default: tests' testConfig() secret. */
  secret?: string;
  /** When set, a small real file is written for each artifact under this directory (the fs store's root). */
  artifactDir?: string;
  /** Password of every seeded user (hashed once with the app's argon2 settings). */
  password?: string;
  /** Events span this many days up to now. */
  auditDays?: number;
};

export type SeededUser = { id: number; email: string; role: "admin" | "operator" | "auditor" | "viewer" };

export type FleetSeed = {
  hostCount: number;
  /** About 20 host ids spread over the fleet, first and last included. */
  hostIds: number[];
  /** Hostnames of those sample hosts, in the same order. */
  hostnames: string[];
  firstHostId: number;
  lastHostId: number;
  /** The host holding every seeded artifact. */
  artifactHostId: number;
  artifactIds: string[];
  adminUserId: number;
  adminEmail: string;
  /** The password of every seeded user. */
  password: string;
  users: SeededUser[];
  /** The tag pool and environments the hosts draw from (each value is in use). */
  tags: string[];
  environments: string[];
  auditEventCount: number;
  auditFirstId: number;
  auditLastId: number;
  /** Time span of the seeded events. */
  auditFrom: Date;
  auditTo: Date;
  secret: string;
  /** Where the time went; auditEncode is the part of audit spent hashing and encoding in this process. */
  timingsMs: { users: number; hosts: number; artifacts: number; audit: number; auditEncode: number; analyze: number; total: number };
};

/** The secret tests/support/config.ts gives every test app (kept in step by hand). */
export const TEST_APP_SECRET = "test-secret-test-secret-test-secret-0123";
const AUDIT_CHAIN_LOCK = 727_001; // the key audit.service.ts takes for appends

const ENVIRONMENTS = ["production", "staging", "development", "qa"] as const;
const ENVIRONMENT_WEIGHTS = [0.55, 0.2, 0.15, 0.1];
const REGIONS = ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-southeast-1"] as const;
const ROLES = ["web", "api", "db", "cache", "queue", "worker", "lb", "search", "monitor", "batch"] as const;
const TEAMS = ["payments", "identity", "search", "platform", "data", "mobile", "billing", "growth"] as const;
const OS = ["Ubuntu 24.04 LTS", "Ubuntu 22.04 LTS", "Debian 12", "Rocky Linux 9", "Amazon Linux 2023", "Alpine 3.20"] as const;
const SSH_USERS = ["ops", "deploy", "ubuntu", "admin", "ec2-user"] as const;
const EXTRA_TAGS = ["pci", "gpu", "spot", "legacy", "canary", "backup", "critical", "k8s-node", "arm64", "ipv6"] as const;
const USER_AGENTS = [
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
  "opsdesk-client/0.1 (node 20)",
  "curl/8.5.0",
] as const;

/** The full tag pool (what hosts draw their tags from). */
export const FLEET_TAGS: readonly string[] = [
  ...ROLES.map((r) => `role:${r}`),
  ...TEAMS.map((t) => `team:${t}`),
  ...REGIONS.map((r) => `region:${r}`),
  ...EXTRA_TAGS,
];

/** mulberry32: small, fast and seedable, so a fleet is reproducible. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = ReturnType<typeof generator>;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
function weighted<T>(random: Random, items: readonly T[], weights: readonly number[]): T {
  let r = random();
  for (let i = 0; i < items.length; i++) {
    r -= weights[i]!;
    if (r < 0) return items[i]!;
  }
  return items[items.length - 1]!;
}

export async function seedFleet(databaseUrl: string, options: FleetSeedOptions = {}): Promise<FleetSeed> {
  const hostCount = options.hosts ?? 10_000;
  const artifactCount = options.artifacts ?? 100;
  const auditCount = options.auditEvents ?? 100_000;
  const secret = options.secret ?? TEST_APP_SECRET;
  const password = options.password ?? "fleet-password-fleet-password";
  const auditDays = options.auditDays ?? 90;
  if (hostCount < 1) throw new Error("seedFleet needs at least one host");

  const started = performance.now();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const timings = { users: 0, hosts: 0, artifacts: 0, audit: 0, auditEncode: 0, analyze: 0, total: 0 };
  try {
    await client.query("begin");
    let t = performance.now();
    const users = await insertUsers(client, password);
    timings.users = performance.now() - t;

    t = performance.now();
    const hosts = await insertHosts(client, hostCount, users, generator(16_001));
    timings.hosts = performance.now() - t;

    t = performance.now();
    const artifactHost = hosts[Math.floor(hosts.length / 2)]!;
    const artifactIds = await insertArtifacts(client, artifactHost.id, artifactCount, users, options.artifactDir);
    timings.artifacts = performance.now() - t;

    t = performance.now();
    const { encodeMs, ...audit } = await appendAuditEvents(client, secret, auditCount, auditDays, {
      users,
      hosts,
      artifactIds,
      artifactHostId: artifactHost.id,
    });
    timings.audit = performance.now() - t;
    timings.auditEncode = encodeMs;
    await client.query("commit");

    // Fresh statistics and visibility maps (what autovacuum gives a fleet that has lived a
    // while after a bulk load), so query plans are those of production.
    t = performance.now();
    await client.query("vacuum (analyze) users, hosts, artifacts, audit_events");
    timings.analyze = performance.now() - t;
    timings.total = performance.now() - started;

    const step = Math.max(1, Math.floor(hosts.length / 19));
    const sample = hosts.filter((_, i) => i % step === 0 || i === hosts.length - 1);
    const admin = users.find((u) => u.role === "admin")!;
    return {
      hostCount: hosts.length,
      hostIds: sample.map((h) => h.id),
      hostnames: sample.map((h) => h.hostname),
      firstHostId: hosts[0]!.id,
      lastHostId: hosts[hosts.length - 1]!.id,
      artifactHostId: artifactHost.id,
      artifactIds,
      adminUserId: admin.id,
      adminEmail: admin.email,
      password,
      users,
      tags: [...FLEET_TAGS],
      environments: [...ENVIRONMENTS],
      auditEventCount: auditCount,
      ...audit,
      secret,
      timingsMs: timings,
    };
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

const SEED_USERS: { local: string; role: SeededUser["role"] }[] = [
  { local: "fleet-admin", role: "admin" },
  { local: "alice.operator", role: "operator" },
  { local: "bob.operator", role: "operator" },
  { local: "chen.operator", role: "operator" },
  { local: "dana.auditor", role: "auditor" },
  { local: "eli.viewer", role: "viewer" },
];

async function insertUsers(client: pg.Client, password: string): Promise<SeededUser[]> {
  const passwordHash = await hashPassword(password);
  const { rows } = await client.query<{ id: number; email: string; role: SeededUser["role"] }>(
    `insert into users (email, password_hash, role)
     select u.email, $1, u.role from jsonb_to_recordset($2::jsonb) as u(email text, role text)
     returning id, email, role`,
    [passwordHash, JSON.stringify(SEED_USERS.map((u) => ({ email: `${u.local}@fleet.example`, role: u.role })))],
  );
  return rows;
}

type SeededHost = { id: number; hostname: string };

const HOSTS_COPY = `copy hosts (hostname, ip, port, ssh_user, bastion, environment, os, tags, prometheus_instance, notes,
  created_at, updated_at, created_by, updated_by) from stdin with (format binary)`;

async function insertHosts(client: pg.Client, count: number, users: SeededUser[], random: Random): Promise<SeededHost[]> {
  const writers = users.filter((u) => u.role === "admin" || u.role === "operator");
  const rows = new BinaryCopyRows();
  const now = Date.now();
  const yearMs = 365 * 86_400_000;
  for (let i = 0; i < count; i++) {
    const env = weighted(random, ENVIRONMENTS, ENVIRONMENT_WEIGHTS);
    const region = pick(random, REGIONS);
    const role = pick(random, ROLES);
    const team = pick(random, TEAMS);
    // Unique by construction: the sequence number is part of the name and of the address.
    const hostname = `${role}-${String(i + 1).padStart(5, "0")}.${region}.${env === "production" ? "prod" : env}.fleet.example`;
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const tags = [`role:${role}`, `team:${team}`, `region:${region}`];
    if (random() < 0.3) tags.push(pick(random, EXTRA_TAGS));
    if (random() < 0.1) {
      const extra = pick(random, EXTRA_TAGS);
      if (!tags.includes(extra)) tags.push(extra);
    }
    const bastion = env === "production" && random() < 0.6 ? `ops@bastion-${region}.fleet.example` : random() < 0.1 ? `jump.${region}.fleet.example:2222` : null;
    const createdAt = new Date(now - yearMs + Math.floor((i / count) * (yearMs - 86_400_000)));
    const updatedAt = random() < 0.4 ? new Date(createdAt.getTime() + Math.floor(random() * (now - createdAt.getTime()))) : createdAt;
    const writer = pick(random, writers).id;
    rows
      .row(14)
      .text(hostname)
      .text(random() < 0.97 ? ip : null)
      .int4(random() < 0.9 ? 22 : 2222)
      .text(pick(random, SSH_USERS))
      .text(bastion)
      .text(env)
      .text(pick(random, OS))
      .textArray(tags)
      .text(random() < 0.05 ? `${hostname}:9100` : null)
      .text(random() < 0.2 ? `Owned by team ${team}. Maintenance window: Sunday 02:00 UTC.` : "")
      .encoded(timestamptzField(createdAt))
      .encoded(timestamptzField(updatedAt))
      .int4(writer)
      .int4(writer);
  }
  // Only this seed's rows: the database may already hold hosts (ids come from the serial).
  const { rows: before } = await client.query<{ max: number | null }>("select max(id) as max from hosts");
  await copyIn(client, HOSTS_COPY, rows.finish());
  const { rows: inserted } = await client.query<SeededHost>(
    "select id, hostname from hosts where id > $1 and hostname like '%.fleet.example' order by id",
    [before[0]?.max ?? 0],
  );
  return inserted;
}

async function insertArtifacts(client: pg.Client, hostId: number, count: number, users: SeededUser[], artifactDir?: string): Promise<string[]> {
  const uploader = users.find((u) => u.role === "operator")!;
  const ids: string[] = [];
  const rows: unknown[] = [];
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    const storedName = `host_${hostId}/${id}.log`;
    const content = Buffer.from(`artifact ${i + 1} of host ${hostId}\n${"log line\n".repeat(i % 10)}`);
    if (artifactDir) {
      mkdirSync(path.join(artifactDir, `host_${hostId}`), { recursive: true, mode: 0o750 });
      writeFileSync(path.join(artifactDir, storedName), content, { mode: 0o640 });
    }
    ids.push(id);
    rows.push({
      id,
      host_id: hostId,
      original_name: `diagnostics-${String(i + 1).padStart(3, "0")}.log`,
      stored_name: storedName,
      size_bytes: content.length,
      sha256: createHash("sha256").update(content).digest("hex"),
      content_type: "text/plain",
      uploaded_by: uploader.id,
      uploaded_by_email: uploader.email,
      created_at: new Date(now - (count - i) * 3_600_000).toISOString(),
    });
  }
  if (rows.length) {
    await client.query(
      `insert into artifacts (id, host_id, original_name, stored_name, size_bytes, sha256, content_type, uploaded_by, uploaded_by_email, created_at)
       select * from jsonb_to_recordset($1::jsonb) as a(id uuid, host_id integer, original_name text, stored_name text, size_bytes bigint,
         sha256 text, content_type text, uploaded_by integer, uploaded_by_email text, created_at timestamptz)`,
      [JSON.stringify(rows)],
    );
  }
  return ids;
}

const AUDIT_COPY = `copy audit_events (at, actor_id, actor_email, action, target_type, target_id, before, after, ip,
  user_agent, request_id, outcome, prev_hash, hash) from stdin with (format binary)`;

type EventDraft = {
  actor: SeededUser | null;
  actorEmail: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  before: unknown;
  after: unknown;
  outcome: "success" | "failure" | "denied";
};

type EventWorld = { users: SeededUser[]; hosts: SeededHost[]; artifactIds: string[]; artifactHostId: number };

/** One realistic event: most are reads and routine operations on hosts, a few are failures. */
function draftEvent(random: Random, world: EventWorld): EventDraft {
  const user = pick(random, world.users);
  const host = pick(random, world.hosts);
  const base = { actor: user, actorEmail: user.email, before: null, after: null, outcome: "success" as const };
  const r = random();
  if (r < 0.2) {
    return { ...base, action: "METRICS_UPDATED", targetType: "host", targetId: String(host.id), after: { state: "ok", instance: `${host.hostname}:9100`, tookMs: 20 + Math.floor(random() * 400) } };
  }
  if (r < 0.35) return { ...base, action: "SESSION_REFRESHED", targetType: "session", targetId: uuidFrom(random) };
  if (r < 0.5) return { ...base, action: "LOGIN_SUCCEEDED", targetType: "user", targetId: String(user.id), after: { mfa: random() < 0.3, session: uuidFrom(random) } };
  if (r < 0.6) return { ...base, action: "SSH_COMMAND_COPIED", targetType: "host", targetId: String(host.id), after: { command: `ssh -p 22 ops@${host.hostname}` } };
  if (r < 0.75) {
    const port = random() < 0.5 ? 22 : 2222;
    return { ...base, action: "HOST_UPDATED", targetType: "host", targetId: String(host.id), before: { port, tags: ["role:web"] }, after: { port: port === 22 ? 2222 : 22, tags: ["role:web", "canary"] } };
  }
  if (r < 0.78) return { ...base, action: "HOST_CREATED", targetType: "host", targetId: String(host.id), after: { hostname: host.hostname, port: 22 } };
  if (r < 0.83 && world.artifactIds.length) {
    return { ...base, action: "ARTIFACT_DOWNLOADED", targetType: "artifact", targetId: pick(random, world.artifactIds), after: { hostId: world.artifactHostId, originalName: "diagnostics.log", range: null } };
  }
  if (r < 0.87) {
    return { actor: null, actorEmail: `${pick(random, ["root", "admin", "test", user.email.split("@")[0]])}@fleet.example`, action: "LOGIN_FAILED", targetType: "user", targetId: null, before: null, after: { reason: "invalid_credentials" }, outcome: "failure" };
  }
  if (r < 0.9) return { ...base, action: "ACCESS_DENIED", targetType: "procedure", targetId: "hosts.delete", after: { reason: "needs hosts:write", role: user.role }, outcome: "denied" };
  if (r < 0.92) return { ...base, action: "LOGOUT", targetType: "session", targetId: uuidFrom(random) };
  if (r < 0.94) return { ...base, action: "HOSTS_EXPORTED", targetType: "hosts", targetId: null, after: { filters: { environment: "production" }, rows: 5000 } };
  if (r < 0.96) return { ...base, action: "API_TOKEN_CREATED", targetType: "api_token", targetId: uuidFrom(random), after: { name: "ci", expiresInDays: 30 } };
  if (r < 0.98) return { ...base, action: "AUDIT_EXPORTED", targetType: "audit_events", targetId: null, after: { filters: {}, format: "csv" } };
  return { ...base, action: "USER_UPDATED", targetType: "user", targetId: String(pick(random, world.users).id), before: { role: "viewer" }, after: { role: "operator" } };
}

const hex8 = (random: Random) => Math.floor(random() * 4294967296).toString(16).padStart(8, "0");

/** A version-4-shaped UUID from the seeded generator (reproducible, unlike randomUUID). */
function uuidFrom(random: Random): string {
  const a = hex8(random);
  const b = hex8(random);
  const c = hex8(random);
  return `${a}-${b.slice(0, 4)}-4${b.slice(5)}-a${c.slice(1, 4)}-${c.slice(4)}${hex8(random)}`;
}

/**
 * Appends `count` events after the chain's current end, hashed exactly as the app hashes
 * (AuditHasher over auditContentParts), timestamps rising with the id over `days` up to now.
 */
async function appendAuditEvents(
  client: pg.Client,
  secret: string,
  count: number,
  days: number,
  world: EventWorld,
): Promise<{ auditFirstId: number; auditLastId: number; auditFrom: Date; auditTo: Date; encodeMs: number }> {
  await client.query("select pg_advisory_xact_lock($1)", [AUDIT_CHAIN_LOCK]);
  const { rows: last } = await client.query<{ id: string; hash: string }>("select id, hash from audit_events order by id desc limit 1");
  let prevHash = last[0]?.hash ?? GENESIS_HASH;
  const hasher = new AuditHasher(secret);
  const random = generator(16_002);
  const to = Date.now() - 60_000;
  const from = to - days * 86_400_000;
  const spacing = count > 1 ? (to - from) / (count - 1) : 0;
  const batch = 10_000;
  // Each batch's COPY is queued without waiting, so PostgreSQL writes one batch while
  // the next is hashed and encoded (the statement queue runs them one after another).
  const statements = new StatementQueue(client);
  const copies: Promise<number>[] = [];
  let encodeMs = 0;
  for (let start = 0; start < count; start += batch) {
    const rows = new BinaryCopyRows();
    const encodeStarted = performance.now();
    for (let i = start; i < Math.min(count, start + batch); i++) {
      const e = draftEvent(random, world);
      const at = new Date(Math.round(from + i * spacing));
      const ip = `192.0.2.${1 + Math.floor(random() * 250)}`;
      const userAgent = pick(random, USER_AGENTS);
      const requestId = uuidFrom(random);
      const fixed = {
        actorId: e.actor?.id ?? null,
        actorEmail: e.actorEmail,
        action: e.action,
        targetType: e.targetType,
        ip,
        userAgent,
        requestId,
        outcome: e.outcome,
      };
      const before = e.before === null ? null : canonicalJson(e.before);
      const after = e.after === null ? null : canonicalJson(e.after);
      const hash = hasher.hashOfParts(prevHash, auditContentParts(fixed, at.toISOString()), e.targetId, before ?? "null", after ?? "null");
      rows
        .row(14)
        .encoded(timestamptzField(at))
        .int4(fixed.actorId)
        .text(fixed.actorEmail)
        .text(fixed.action)
        .text(fixed.targetType)
        .text(e.targetId)
        .text(before)
        .text(after)
        .text(ip)
        .text(userAgent)
        .text(requestId)
        .text(fixed.outcome)
        .text(prevHash)
        .text(hash);
      prevHash = hash;
    }
    const data = rows.finish();
    encodeMs += performance.now() - encodeStarted;
    const copy = statements.run((connection) => copyIn(connection, AUDIT_COPY, data));
    copy.catch(() => undefined); // awaited below; a failure must not go unobserved meanwhile
    copies.push(copy);
    // Let the socket take this batch before the next one is built.
    await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(copies);
  const { rows: ids } = await client.query<{ first: string; last: string }>(
    "select min(id) as first, max(id) as last from audit_events where id > $1",
    [last[0]?.id ?? 0],
  );
  return {
    auditFirstId: Number(ids[0]?.first ?? 0),
    auditLastId: Number(ids[0]?.last ?? 0),
    auditFrom: new Date(from),
    auditTo: new Date(to),
    encodeMs,
  };
}
