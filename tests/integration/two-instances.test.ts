import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { trpc } from "../support/app-server";
import { type Cluster, type ClusterInstance, startCluster } from "../support/cluster";
import { isRunning } from "../support/server-process";

/**
 * Issue 15: two real processes (`node scripts/serve.mjs` on the build) on one PostgreSQL,
 * behind a real haproxy, with artifacts in a real s3rver bucket. Whatever one instance
 * does, the other must see: nothing a request needs may live in one process's memory.
 * Requests go to an instance's own URL when the test needs to pick the instance.
 */
const hasBuild = existsSync("build/index.js");
if (!hasBuild) console.warn("two-instance tests skipped: no build/index.js (run `npm run build`)");

let cluster: Cluster;
let a: ClusterInstance;
let b: ClusterInstance;
let db: pg.Pool;
let adminToken: string;
let hostId: number;

type Tokens = { accessToken: string; refreshToken: string; expiresAt: string };

beforeAll(async () => {
  if (!hasBuild) return;
  // Debug logs: the cleanup says which round it ran or skipped.
  cluster = await startCluster({ instances: 2, store: "s3", postgresUrl: inject("postgresUrl"), env: { LOG_LEVEL: "debug" } });
  [a, b] = cluster.instances as [ClusterInstance, ClusterInstance];
  db = new pg.Pool({ connectionString: cluster.databaseUrl, max: 2 });
  const login = await trpc<Tokens>(cluster.url, "auth.login", {
    mutation: true,
    input: { email: cluster.admin.email, password: cluster.admin.password },
  });
  adminToken = login.data!.accessToken;
  const host = await trpc<{ id: number }>(cluster.url, "hosts.create", {
    mutation: true,
    token: adminToken,
    input: { hostname: "shared.cluster.test" },
  });
  hostId = host.data!.id;
}, 120_000);
afterAll(async () => {
  await db?.end();
  await cluster?.stop();
});

let counter = 0;
/** A user created by the admin through the API; its own client address keeps rate limits apart. */
async function newUser(role: "operator" | "viewer" = "operator") {
  counter += 1;
  const email = `user-${counter}-${Date.now()}@cluster.test`;
  const password = "correct-horse-battery-staple";
  const res = await trpc<{ id: number }>(cluster.url, "users.create", { mutation: true, token: adminToken, input: { email, role, password } });
  expect(res.status).toBe(200);
  return { email, password, client: { "x-forwarded-for": `198.51.100.${counter}`, "user-agent": `client-${counter}/1.0` } };
}

const login = (instance: { url: string }, email: string, password: string, headers: Record<string, string>) =>
  trpc<Tokens>(instance.url, "auth.login", { mutation: true, input: { email, password }, headers });

async function formLogin(instance: ClusterInstance, email: string, password: string, client: Record<string, string>) {
  const res = await fetch(`${instance.url}/login?redirectTo=%2Fstatus`, {
    method: "POST",
    redirect: "manual",
    headers: { ...client, origin: instance.url, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ intent: "password", redirectTo: "/status", email, password }),
  });
  expect(res.status).toBe(302);
  return res
    .headers.getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: string }>(sql, params);
  return Number(rows[0]!.n);
}

describe.skipIf(!hasBuild)("two instances behind haproxy", () => {
  test("the proxy sends consecutive requests to both instances, each of them ready", async () => {
    const servedBy = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${cluster.url}/readyz`);
      expect(res.status).toBe(200);
      servedBy.add(res.headers.get("x-opsdesk-instance") ?? "none");
    }
    expect([...servedBy].sort()).toEqual(["a", "b"]);
    for (const instance of cluster.instances) expect((await fetch(`${instance.url}/readyz`)).status).toBe(200);
    expect(await cluster.serverStates()).toEqual({ a: "UP", b: "UP" });
  });
});

describe.skipIf(!hasBuild)("signing in on one instance", () => {
  test("a browser signed in on A loads signed-in pages on B, and B's CSRF token signs it out on A", async () => {
    const user = await newUser();
    const cookie = await formLogin(a, user.email, user.password, user.client);
    const page = await fetch(`${b.url}/hosts`, { redirect: "manual", headers: { ...user.client, cookie } });
    expect(page.status).toBe(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? "";
    expect(csrf).not.toBe("");

    const out = await fetch(`${a.url}/logout`, {
      method: "POST",
      redirect: "manual",
      headers: { ...user.client, origin: a.url, cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf }),
    });
    expect(out.status).toBe(302);
    // The session row is revoked: B refuses the old cookies at once, not when the JWT expires.
    const after = await fetch(`${b.url}/hosts`, { redirect: "manual", headers: { ...user.client, cookie } });
    expect(after.status).toBe(302);
    expect(after.headers.get("location")).toMatch(/^\/login/);
  });

  test("through the proxy, a browser's pages stay signed in whichever instance answers", async () => {
    const user = await newUser("viewer");
    const res = await fetch(`${cluster.url}/login?redirectTo=%2Fstatus`, {
      method: "POST",
      redirect: "manual",
      headers: { origin: cluster.url, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ intent: "password", redirectTo: "/status", email: user.email, password: user.password }),
    });
    expect(res.status).toBe(302);
    const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const servedBy = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const page = await fetch(`${cluster.url}/hosts`, { redirect: "manual", headers: { cookie } });
      expect(page.status).toBe(200);
      await page.arrayBuffer();
      servedBy.add(page.headers.get("x-opsdesk-instance") ?? "none");
    }
    expect([...servedBy].sort()).toEqual(["a", "b"]);
  });

  test("a script's access token and API token from A work on B", async () => {
    const user = await newUser();
    const session = await login(a, user.email, user.password, user.client);
    expect(session.status).toBe(200);
    const me = await trpc<{ email: string }>(b.url, "auth.me", { token: session.data!.accessToken });
    expect(me.data?.email).toBe(user.email);

    const created = await trpc<{ token: string }>(a.url, "account.tokens.create", {
      mutation: true,
      token: session.data!.accessToken,
      input: { name: "deploy-script", expiresInDays: 1 },
    });
    expect(created.status).toBe(200);
    const viaToken = await trpc<{ email: string }>(b.url, "auth.me", { token: created.data!.token });
    expect(viaToken.data?.email).toBe(user.email);
  });
});

describe.skipIf(!hasBuild)("refresh tokens across instances", () => {
  const refresh = (instance: ClusterInstance, refreshToken: string, client: Record<string, string>) =>
    trpc<Tokens>(instance.url, "auth.refresh", { mutation: true, input: { refreshToken }, headers: client });

  test("a thief on A and the victim on B racing one refresh token revoke the family exactly once (5 rounds)", async () => {
    for (let round = 0; round < 5; round++) {
      const user = await newUser();
      const thief = { "x-forwarded-for": "203.0.113.66", "user-agent": "thief-tool/6.6" };
      const { data: tokens } = await login(a, user.email, user.password, user.client);
      const [onA, onB] = await Promise.all([refresh(a, tokens!.refreshToken, thief), refresh(b, tokens!.refreshToken, user.client)]);
      const statuses = [onA.status, onB.status].sort();
      const winner = onA.status === 200 ? onA : onB;
      const family = await count(
        "select count(*) as n from audit_events where action = 'REFRESH_TOKEN_REUSED' and actor_id = (select id from users where email = $1)",
        [user.email],
      );
      const winnerStillIn = (await trpc(a.url, "auth.me", { token: winner.data?.accessToken })).status === 200;
      const revoked = await count(
        "select count(*) as n from sessions where user_id = (select id from users where email = $1) and revoked_at is not null",
        [user.email],
      );
      expect({ round, statuses, family, winnerStillIn, revoked }).toEqual({ round, statuses: [200, 401], family: 1, winnerStillIn: false, revoked: 1 });
    }
  });

  test("one client racing itself on A and B keeps its session: one rotates, the other is told so", async () => {
    const user = await newUser();
    const { data: tokens } = await login(a, user.email, user.password, user.client);
    const [onA, onB] = await Promise.all([refresh(a, tokens!.refreshToken, user.client), refresh(b, tokens!.refreshToken, user.client)]);
    expect([onA.status, onB.status].sort()).toEqual([200, 409]);
    const winner = onA.status === 200 ? onA : onB;
    expect((await trpc(b.url, "auth.me", { token: winner.data!.accessToken })).status).toBe(200);
    expect((await refresh(a, winner.data!.refreshToken, user.client)).status).toBe(200);
  });
});

describe.skipIf(!hasBuild)("artifacts in the shared bucket", () => {
  test("a file uploaded through A downloads whole and by ranges through B and through the proxy", async () => {
    const content = Buffer.alloc(9 * 1024 * 1024 + 17); // above one S3 part: multipart
    for (let i = 0; i + 4 <= content.length; i += 4096) content.writeUInt32BE(i, i);
    const form = new FormData();
    form.set("file", new Blob([new Uint8Array(content)]), "dump.bin");
    const up = await fetch(`${a.url}/artifacts/${hostId}/artifacts`, { method: "POST", body: form, headers: { authorization: `Bearer ${adminToken}` } });
    expect(up.status).toBe(201);
    const { id, sha256 } = (await up.json()) as { id: string; sha256: string };
    expect(sha256).toBe(createHash("sha256").update(content).digest("hex"));

    const auth = { authorization: `Bearer ${adminToken}` };
    const whole = await fetch(`${b.url}/artifacts/${id}/download`, { headers: auth });
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(content)).toBe(true);
    const range = await fetch(`${b.url}/artifacts/${id}/download`, { headers: { ...auth, range: "bytes=8388600-8388707" } });
    expect(range.status).toBe(206);
    expect(range.headers.get("content-range")).toBe(`bytes 8388600-8388707/${content.length}`);
    expect(Buffer.from(await range.arrayBuffer()).equals(content.subarray(8_388_600, 8_388_708))).toBe(true);
    for (let i = 0; i < 2; i++) {
      const tail = await fetch(`${cluster.url}/artifacts/${id}/download`, { headers: { ...auth, range: "bytes=-100" } });
      expect(tail.status).toBe(206);
      expect(Buffer.from(await tail.arrayBuffer()).equals(content.subarray(content.length - 100))).toBe(true);
    }
  });
});

type ImportStatus = {
  phase: string;
  running: boolean;
  interrupted: boolean;
  rowsSeen: number;
  rowsApplied: number;
  result: { applied: boolean; created: number; updated: number; totalRows: number } | null;
};

describe.skipIf(!hasBuild)("a CSV import across instances", () => {
  test("an import sent to A shows its progress (monotone counts) and its result through B; B reads its hosts and their audit events", async () => {
    const runId = randomUUID();
    // Large enough that B sees several progress writes (one per 250 ms at most) while A applies.
    const rows = 40_000;
    const marker = `xinst-${Date.now().toString(36)}`;
    const csv = ["hostname,ip,environment,tags", ...Array.from({ length: rows }, (_, i) => `${marker}-${i}.cluster.test,10.44.${i >> 8}.${i & 255},prod,${marker}`)].join("\n");
    const auth = { authorization: `Bearer ${adminToken}` };
    const sent = fetch(`${a.url}/hosts/import.csv?dryRun=false&runId=${runId}&fileName=fleet.csv`, {
      method: "POST",
      headers: { ...auth, "content-type": "text/csv" },
      body: csv,
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as { applied: boolean; created: number; runId: string } }));
    let answered = false;
    void sent.finally(() => {
      answered = true;
    });

    // B follows the run from its row alone: A's transaction is invisible to it.
    const seen: ImportStatus[] = [];
    while (!answered) {
      const status = await trpc<ImportStatus>(b.url, "hosts.importStatus", { token: adminToken, input: { runId } });
      if (status.status === 200) seen.push(status.data!);
      else expect(status.error?.data.code).toBe("NOT_FOUND"); // A has not inserted the row yet
      await new Promise((r) => setTimeout(r, 50));
    }
    const answer = await sent;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ applied: true, created: rows, runId });
    const final = await trpc<ImportStatus>(b.url, "hosts.importStatus", { token: adminToken, input: { runId } });
    seen.push(final.data!);

    const running = seen.filter((s) => s.running);
    expect(running.some((s) => s.rowsSeen > 0), `a running phase with rows seen, among ${JSON.stringify(seen.map((s) => [s.phase, s.rowsSeen, s.rowsApplied]))}`).toBe(true);
    expect(running.every((s) => ["parsing", "validating", "applying"].includes(s.phase) && !s.interrupted)).toBe(true);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]!.rowsSeen).toBeGreaterThanOrEqual(seen[i - 1]!.rowsSeen);
      expect(seen[i]!.rowsApplied).toBeGreaterThanOrEqual(seen[i - 1]!.rowsApplied);
    }
    expect(final.data).toMatchObject({ phase: "done", running: false, rowsSeen: rows, rowsApplied: rows });
    expect(final.data!.result).toMatchObject({ applied: true, created: rows, updated: 0, totalRows: rows });

    // Through B: the hosts, the import's own event and one creation event per host.
    const listed = await trpc<{ total: number }>(b.url, "hosts.list", { token: adminToken, input: { tags: [marker], limit: 1 } });
    expect(listed.data?.total).toBe(rows);
    const imported = await trpc<{ items: { action: string; targetId: string }[] }>(b.url, "audit.list", {
      token: adminToken,
      input: { action: "HOSTS_IMPORTED", targetId: runId },
    });
    expect(imported.data?.items.map((e) => e.action)).toEqual(["HOSTS_IMPORTED"]);
    // Fresh statistics first: without them the planner guesses one marker host and joins by
    // nested loop over every event (minutes at 40,000 hosts; this is what once timed out).
    await db.query("analyze hosts, audit_events");
    const hostEvents = await count(
      "select count(*) as n from audit_events e where e.action = 'HOST_CREATED' and e.target_type = 'host' and e.target_id in (select id::text from hosts where hostname like $1)",
      [`${marker}-%`],
    );
    expect(hostEvents).toBe(rows);
    const verified = await trpc<{ ok: boolean }>(b.url, "audit.verify", { token: adminToken });
    expect(verified.data?.ok).toBe(true);
  }, 120_000);
});

describe.skipIf(!hasBuild)("login rate limits", () => {
  test("failures on A and on B count together: four on A and one on B limit the next attempt on either", async () => {
    const user = await newUser();
    for (let i = 0; i < 4; i++) expect((await login(a, user.email, "not-the-password", user.client)).status).toBe(401);
    expect((await login(b, user.email, "not-the-password", user.client)).status).toBe(401);
    const onB = await login(b, user.email, user.password, user.client);
    expect(onB.status).toBe(429);
    expect(Number(onB.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await login(a, user.email, user.password, user.client)).status).toBe(429);
    // The limit is per account and address: the owner elsewhere is not held back.
    expect((await login(b, user.email, user.password, { ...user.client, "x-forwarded-for": "192.0.2.250" })).status).toBe(200);
  });
});

/** Each instance's cleanup decisions from its JSON log: round (ISO time) → "ran" | "skipped". */
function cleanupDecisions(instance: ClusterInstance): Map<string, string> {
  const decisions = new Map<string, string>();
  for (const line of instance.output().split("\n")) {
    if (!line.startsWith("{") || !line.includes("cleanup")) continue;
    const entry = JSON.parse(line) as { msg?: string; round?: string };
    if (!entry.round) continue;
    if (entry.msg === "cleanup ran") decisions.set(entry.round, "ran");
    else if (entry.msg?.startsWith("cleanup round skipped")) decisions.set(entry.round, "skipped");
  }
  return decisions;
}

describe.skipIf(!hasBuild)("the TTL cleanup", () => {
  test("both instances wake for the same rounds and exactly one runs each (two rounds of 10 s)", async () => {
    await db.query(
      "insert into rate_limit_buckets (key, count, window_start, expires_at) values ('cluster-test:expired', 1, now() - interval '1 hour', now() - interval '1 minute')",
    );
    const set = await trpc(cluster.url, "settings.update", { mutation: true, token: adminToken, input: { "metrics.cleanupIntervalSeconds": 10 } });
    expect(set.status).toBe(200);

    // Rounds both instances have decided; each instance picks the new interval up within 10 s.
    const decided = () => {
      const [onA, onB] = [cleanupDecisions(a), cleanupDecisions(b)];
      return [...onA.keys()].filter((round) => onB.has(round)).sort().map((round) => ({ round, a: onA.get(round), b: onB.get(round) }));
    };
    const deadline = Date.now() + 45_000;
    while (decided().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    const rounds = decided();
    expect(rounds.length).toBeGreaterThanOrEqual(2);
    for (const round of rounds) {
      expect(new Date(round.round).getTime() % 10_000).toBe(0);
      expect([round.a, round.b].sort()).toEqual(["ran", "skipped"]);
    }
    expect(await count("select count(*) as n from rate_limit_buckets where key = 'cluster-test:expired'")).toBe(0);
    const { rows } = await db.query<{ round_at: Date }>("select round_at from maintenance_rounds where job = 'cleanup'");
    expect(rows[0]!.round_at.getTime()).toBeGreaterThanOrEqual(new Date(rounds.at(-1)!.round).getTime());
  }, 60_000);
});

describe.skipIf(!hasBuild)("stopping a cluster", () => {
  test("leaves no app, haproxy or temporary directory behind", async () => {
    const own = await startCluster({ instances: 1, store: "fs", postgresUrl: inject("postgresUrl") });
    const pids = own.instances.map((i) => i.pid);
    const dir = own.artifactDir!;
    expect(pids.every(isRunning)).toBe(true);
    await own.stop();
    expect(pids.filter(isRunning)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    await expect(fetch(`${own.url}/healthz`)).rejects.toThrow();
  }, 60_000);
});
