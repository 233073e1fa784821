import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import v8 from "node:v8";
import vm from "node:vm";
import pg from "pg";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../../db/embedded-postgres";
import { copyIn } from "../../server/services/pg-copy";
import { migrateUp, type Orm, openOrm } from "../../db/orm";
import { limitHeapHeadroom } from "../../server/heap-headroom";
import { createLogger } from "../../server/logger";
import { type AppServer, startAppServer } from "../support/app-server";
import { makeTempDir } from "../support/temp-dir";

/**
 * What every benchmark needs outside vitest: its own migrated database, the real HTTP app
 * in this process, memory sampling and a COPY baseline.
 */

export type BenchDatabase = { url: string; orm: Orm; close: () => Promise<void> };

/**
 * A fresh, migrated database: on the server at TEST_DATABASE_URL when set (a database of
 * its own, dropped at the end), else an embedded PostgreSQL in a temporary directory
 * (stopped and removed at the end).
 */
export async function startBenchDatabase(): Promise<BenchDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  let embedded: EmbeddedPostgres | undefined;
  let tempDir: string | undefined;
  let url: string;
  let dropDatabase: (() => Promise<void>) | undefined;
  if (serverUrl) {
    const name = `opsdesk_bench_${randomBytes(6).toString("hex")}`;
    await withAdminClient(serverUrl, (client) => client.query(`create database "${name}"`));
    url = withDatabase(serverUrl, name);
    dropDatabase = () => withAdminClient(serverUrl, (client) => client.query(`drop database if exists "${name}" with (force)`)).then(() => {});
  } else {
    tempDir = makeTempDir("opsdesk-bench-");
    embedded = await startEmbeddedPostgres({ dataDir: tempDir, log: createLogger("silent"), database: "opsdesk_bench" });
    url = embedded.url;
  }
  const orm = await openOrm(url);
  await migrateUp(orm);
  return {
    url,
    orm,
    close: async () => {
      await orm.close(true).catch(() => {});
      await dropDatabase?.();
      await embedded?.stop();
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    },
  };
}

/**
 * The real app (Express + Remix build) on the bench database; needs `npx remix build`.
 * This process then collects garbage as the server does (runServer sets the heap's
 * headroom), so its figures are the server's.
 */
export async function startBenchApp(db: BenchDatabase): Promise<AppServer & { stop: () => Promise<void> }> {
  limitHeapHeadroom();
  const app = await startAppServer(db);
  return {
    ...app,
    stop: async () => {
      await app.close();
      // testConfig() made a data directory for this app; it holds nothing we keep.
      rmSync(app.runtime.config.dataDir, { recursive: true, force: true });
    },
  };
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function withAdminClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabase(url, "postgres") });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Peak resident set size of this process, sampled every `intervalMs` until stopped. */
export function sampleRss(intervalMs = 50): { stop: () => number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

let gcFunction: (() => void) | undefined;
/**
 * A full garbage collection, so a memory baseline is not inflated by garbage from
 * earlier steps. `--expose-gc` is switched on at run time: `npm run bench` starts plain tsx.
 */
export function collectGarbage(): void {
  if (!gcFunction) {
    v8.setFlagsFromString("--expose-gc");
    gcFunction = vm.runInNewContext("gc") as () => void;
  }
  gcFunction();
  gcFunction();
}

/**
 * `COPY … FROM STDIN` of data in memory (the server's copyIn, 256 KiB per CopyData message).
 * Chosen over `COPY … FROM '/tmp/file.csv'` (or `FROM PROGRAM 'cat …'`) because those are
 * read by the server process: they need superuser or pg_read_server_files, a file the
 * `postgres` user can read, and a server on this machine, so they would fail against a
 * TEST_DATABASE_URL server elsewhere (a container, CI service). FROM STDIN works on any
 * server and carries the rows over the client connection, as the app's writes are.
 */
export function copyFromStdin(client: pg.Client, sql: string, data: Buffer): Promise<number> {
  return copyIn(client, sql, [data]);
}

export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
export const perSecond = (count: number, ms: number): string => `${Math.round((count / ms) * 1000).toLocaleString("en-US")} rows/s`;
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
