import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type EmbeddedPostgres, freePort, startEmbeddedPostgres } from "../../db/embedded-postgres";
import { createLogger } from "../../server/logger";
import { createUser } from "../../server/services/users.service";
import { startAppServer, trpc } from "../support/app-server";
import { createTestDatabase } from "../support/database";
import { isRunning, type ServerProcess, spawnServer, waitForReady } from "../support/server-process";
import { makeTempDir } from "../support/temp-dir";

/**
 * Issue 15: PostgreSQL SIGKILLed while a CSV import applies, the way a database host dies.
 * The app runs as a real process (`node scripts/serve.mjs` on the build) against an
 * embedded PostgreSQL this file owns, so the database can be killed and started again on
 * the same data directory and port. Crash recovery must leave nothing of the import, the
 * app must come back by itself, and the same file imported again must give exactly what a
 * clean database gives.
 */
const hasBuild = existsSync("build/index.js");
if (!hasBuild) console.warn("import-db-killed tests skipped: no build/index.js (run `npm run build`)");

// Large enough that the apply runs for seconds (the kill lands mid-way), small enough that
// the dry run keeps the file for an apply by id (8 MB).
const ROWS = 80_000;
const marker = `dbkill-${Date.now().toString(36)}`;
const csv = [
  "hostname,ip,environment,tags",
  ...Array.from(
    { length: ROWS },
    (_, i) => `${marker}-${i}.kill.test,10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255},${["prod", "staging", "dev"][i % 3]},${marker};rack-${i % 40}`,
  ),
].join("\n");

const admin = { email: "dbkill-admin@test.example", password: "dbkill-admin-password-1" };
const log = createLogger("silent");
// Everything this file creates lives under one directory: PostgreSQL's data, the app's data
// directory and the app's TMPDIR (which must be empty once the app has stopped).
const root = makeTempDir("opsdesk-dbkill-");
const appTmp = path.join(root, "tmp");
let port: number;
let database: EmbeddedPostgres | null = null;
let app: ServerProcess;
let token: string;
let db: pg.Pool;

type ImportStatus = {
  phase: string;
  running: boolean;
  interrupted: boolean;
  rowsApplied: number;
  failure: string | null;
  result: { applied: boolean; created: number; updated: number; totalRows: number } | null;
};
type ImportResult = { runId: string; created: number; errorCount: number; totalRows: number; applied: boolean };

const DIGEST_SQL = `select count(*)::int as n, md5(coalesce(string_agg(hostname || ',' || coalesce(ip, '') || ',' || coalesce(environment, '') || ','
  || array_to_string(tags, ';'), E'\\n' order by hostname), '')) as digest from hosts where hostname like $1`;

async function startDatabase(): Promise<void> {
  database = await startEmbeddedPostgres({ dataDir: path.join(root, "db"), log, port });
}

beforeAll(async () => {
  if (!hasBuild) return;
  mkdirSync(appTmp, { mode: 0o755 });
  port = await freePort();
  await startDatabase();
  app = await spawnServer({
    DATABASE_URL: database!.url,
    OPSDESK_DATA_DIR: path.join(root, "app"),
    OPSDESK_SECRET: "dbkill-secret-dbkill-secret-dbkill-0123456789",
    OPSDESK_ADMIN_EMAIL: admin.email,
    OPSDESK_ADMIN_PASSWORD: admin.password,
    TMPDIR: appTmp,
    LOG_LEVEL: "warn",
  });
  await waitForReady(app, 60_000);
  const login = await trpc<{ accessToken: string }>(app.url, "auth.login", { mutation: true, input: admin });
  token = login.data!.accessToken;
  db = new pg.Pool({ connectionString: database!.url, max: 1 });
  // The pool's idle client dies with the server: that is expected here, not a test failure.
  db.on("error", () => undefined);
}, 90_000);

afterAll(async () => {
  if (app && app.child.exitCode === null && app.child.signalCode === null) {
    app.child.kill("SIGKILL");
    await app.exited;
  }
  await db?.end().catch(() => undefined);
  await database?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function count(sql: string, params: unknown[]): Promise<number> {
  const { rows } = await db.query<{ n: string }>(sql, params);
  return Number(rows[0]!.n);
}

async function status(runId: string): Promise<{ httpStatus: number; data: ImportStatus | undefined }> {
  const res = await trpc<ImportStatus>(app.url, "hosts.importStatus", { token, input: { runId } });
  return { httpStatus: res.status, data: res.data };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    last = await probe().catch((error: unknown) => error);
    if (last !== undefined && !(last instanceof Error)) return last as T;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms (last: ${String(last)})\n${app.output().slice(-3000)}`);
}

async function dryRun(): Promise<ImportResult> {
  const res = await trpc<ImportResult>(app.url, "hosts.importCsv", {
    mutation: true,
    token,
    input: { csv, dryRun: true, fileName: "fleet.csv" },
  });
  expect(res.status, JSON.stringify(res.error)).toBe(200);
  expect(res.data).toMatchObject({ created: ROWS, errorCount: 0, applied: false });
  return res.data!;
}

async function startApply(runId: string): Promise<void> {
  const res = await trpc(app.url, "hosts.startApplyImport", { mutation: true, token, input: { runId } });
  expect(res.status, JSON.stringify(res.error)).toBe(200);
}

/** The server processes (postmaster children) alive now: they outlive a SIGKILLed postmaster until they notice. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the command's closing parenthesis: state, ppid, …
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return children;
}

/** SIGKILL to the postmaster, then waits for its backends to go (a new postmaster refuses to start beside them). */
async function killDatabase(): Promise<void> {
  const pidFile = path.join(root, "db", "postgres", "postmaster.pid");
  const postmaster = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  expect(isRunning(postmaster)).toBe(true);
  const backends = childrenOf(postmaster);
  expect(backends.length).toBeGreaterThan(0);
  process.kill(postmaster, "SIGKILL");
  database = null; // its stop() would wait for a child that is gone
  await until("postmaster and backends gone", 15_000, async () => ([postmaster, ...backends].some(isRunning) ? undefined : true));
}

describe.skipIf(!hasBuild)("PostgreSQL killed in the middle of a CSV import apply", () => {
  let killedRunId: string;

  test("nothing of the import is committed, the run reads interrupted, and the app serves again by itself", async () => {
    killedRunId = (await dryRun()).runId;
    await startApply(killedRunId);
    const applying = await until("apply under way", 30_000, async () => {
      const s = await status(killedRunId);
      return s.data?.phase === "applying" && s.data.rowsApplied > 0 ? s.data : undefined;
    });
    expect(applying.rowsApplied).toBeLessThan(ROWS);

    await killDatabase();
    await startDatabase();
    await until("app ready again", 30_000, async () => ((await fetch(`${app.url}/readyz`)).status === 200 ? true : undefined));

    expect(await count("select count(*) as n from hosts where hostname like $1", [`${marker}-%`])).toBe(0);
    expect(await count("select count(*) as n from audit_events where action = 'HOSTS_IMPORTED' and target_id = $1", [killedRunId])).toBe(0);
    expect(await count("select count(*) as n from audit_events where action = 'HOST_CREATED' and after->>'hostname' like $1", [`${marker}-%`])).toBe(0);
    // The run's end could not be written (the database was gone): its free lock says interrupted.
    const after = await until("run no longer running", 15_000, async () => {
      const s = await status(killedRunId);
      return s.httpStatus === 200 && s.data && !s.data.running ? s.data : undefined;
    });
    expect(after.phase).toBe("failed");
    expect(after.rowsApplied).toBe(0);
    expect(after.result).toBeNull();
    expect(after.failure).toMatch(/nothing of it was written/i);
    expect(app.child.exitCode).toBeNull();
    expect(app.child.signalCode).toBeNull();
    const verified = await trpc<{ ok: boolean }>(app.url, "audit.verify", { token });
    expect(verified.data?.ok).toBe(true);
  }, 90_000);

  test("the same CSV imported again creates every row, exactly the hosts a clean database gets", async () => {
    expect(killedRunId, "runs after the kill test").toBeDefined();
    const runId = (await dryRun()).runId;
    await startApply(runId);
    const done = await until("second apply done", 60_000, async () => {
      const s = await status(runId);
      return s.data && !s.data.running ? s.data : undefined;
    });
    expect(done.phase, done.failure ?? "").toBe("done");
    expect(done.result).toMatchObject({ applied: true, created: ROWS, updated: 0, totalRows: ROWS });
    const { rows } = await db.query<{ n: number; digest: string }>(DIGEST_SQL, [`${marker}-%`]);
    expect(rows[0]!.n).toBe(ROWS);
    expect(await count("select count(*) as n from audit_events where action = 'HOST_CREATED' and after->>'hostname' like $1", [`${marker}-%`])).toBe(ROWS);
    expect(await count("select count(*) as n from audit_events where action = 'HOSTS_IMPORTED'", [])).toBe(1);

    expect(rows[0]!.digest).toBe(await cleanDigest());
  }, 120_000);

  test("the app still stops cleanly (exit 0) and leaves nothing in its TMPDIR", async () => {
    app.child.kill("SIGTERM");
    const code = await Promise.race([app.exited, new Promise<string>((r) => setTimeout(() => r("still running after 20 s"), 20_000))]);
    expect(code, app.output().slice(-3000)).toBe(0);
    expect(readdirSync(appTmp)).toEqual([]);
  }, 30_000);
});

/** The same CSV applied on a fresh database of the shared test server, by an in-process app. */
async function cleanDigest(): Promise<string> {
  const clean = await createTestDatabase();
  const server = await startAppServer(clean);
  try {
    await createUser(clean.orm.em.fork(), server.runtime.config, { id: null, email: "test-setup" }, { ...admin, role: "admin" }, {
      ip: null,
      userAgent: null,
      requestId: null,
    });
    const login = await trpc<{ accessToken: string }>(server.url, "auth.login", { mutation: true, input: admin });
    const applied = await trpc<ImportResult>(server.url, "hosts.importCsv", {
      mutation: true,
      token: login.data!.accessToken,
      input: { csv, dryRun: false, runId: randomUUID() },
    });
    expect(applied.data).toMatchObject({ applied: true, created: ROWS });
    const rows = await clean.orm.em.fork().getConnection().execute<{ n: number; digest: string }[]>(
      DIGEST_SQL.replace("$1", "?"),
      [`${marker}-%`],
    );
    expect(rows[0]!.n).toBe(ROWS);
    return rows[0]!.digest;
  } finally {
    await server.close();
    await clean.drop();
  }
}
