import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import path from "node:path";
import pg from "pg";
import { type EmbeddedPostgres, freePort, startEmbeddedPostgres } from "../../db/embedded-postgres";
import { createLogger } from "../../server/logger";
import { type S3TestServer, startS3Server } from "./s3-server";
import { type ServerProcess, spawnServer, waitForReady } from "./server-process";
import { makeTempDir } from "./temp-dir";

/**
 * Issue 15: N real OpsDesk processes (`node scripts/serve.mjs` on the build) on one
 * PostgreSQL, behind a real haproxy (round robin, no stickiness, health check on /readyz),
 * with an s3rver bucket or one shared directory for artifacts. Imports nothing from vitest,
 * so the load benchmark can start it from a plain script.
 */
export type ClusterOptions = {
  instances?: 1 | 2;
  store?: "fs" | "s3";
  /**
   * A PostgreSQL server to create a fresh database on (dropped by `stop()`); tests pass
   * `inject("postgresUrl")`. Absent: an embedded PostgreSQL 16 in a temporary directory.
   */
  postgresUrl?: string;
  /** Extra environment for every instance (LOG_LEVEL, SHUTDOWN_DRAIN_SECONDS, …). */
  env?: Record<string, string>;
  /** haproxy's health check interval; the test default reacts within a few hundred ms. */
  checkIntervalMs?: number;
};

export type ClusterInstance = {
  name: string;
  url: string;
  child: ChildProcess;
  pid: number;
  output: () => string;
  exited: Promise<number | null>;
};

export type Cluster = {
  /** The proxy: what clients use. */
  url: string;
  instances: ClusterInstance[];
  databaseUrl: string;
  /** The first admin every instance agrees on (created by the first instance at boot). */
  admin: { email: string; password: string };
  secret: string;
  s3: S3TestServer | undefined;
  /** Where the `fs` store keeps artifacts (one directory shared by all instances). */
  artifactDir: string | undefined;
  /** haproxy's view of each server: "UP", "DOWN", "MAINT", … (from its stats socket). */
  serverStates: () => Promise<Record<string, string>>;
  /** Requests haproxy has open to each server right now (`scur`). */
  currentSessions: () => Promise<Record<string, number>>;
  haproxyOutput: () => string;
  /** Stops instances (SIGTERM, then SIGKILL), haproxy, s3rver and PostgreSQL; removes every temp dir. */
  stop: () => Promise<void>;
};

const SECRET = "cluster-secret-cluster-secret-cluster-0123456789";
const ADMIN = { email: "admin@cluster.test", password: "cluster-admin-password-1" };
const INSTANCE_NAMES = ["a", "b"] as const;

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const count = options.instances ?? 2;
  const store = options.store ?? "fs";
  const root = makeTempDir("opsdesk-cluster-");
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(root, { recursive: true, force: true })];
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  // A test runner that dies must not leave app processes or haproxy behind.
  process.once("exit", killAll);
  cleanups.push(() => {
    process.off("exit", killAll);
  });
  const runCleanups = async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
    cleanups.length = 0;
  };

  try {
    const databaseUrl = await startDatabase(root, options.postgresUrl, cleanups);
    let s3: S3TestServer | undefined;
    let artifactDir: string | undefined;
    const storeEnv: Record<string, string> = {};
    if (store === "s3") {
      s3 = await startS3Server();
      cleanups.push(() => s3!.close());
      Object.assign(storeEnv, {
        ARTIFACT_STORE: "s3",
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: s3.bucket,
        S3_REGION: s3.region,
        S3_ACCESS_KEY_ID: s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        S3_FORCE_PATH_STYLE: "1",
      });
    } else {
      // Stands in for a volume mounted at the same path on every instance.
      artifactDir = path.join(root, "artifacts");
      mkdirSync(artifactDir, { mode: 0o755 });
      storeEnv.ARTIFACT_STORE = "fs";
      storeEnv.ARTIFACT_STORAGE_PATH = artifactDir;
    }

    const instances: ClusterInstance[] = [];
    cleanups.push(() => stopInstances(instances));
    // One after the other: the first runs the migrations and creates the admin, so the
    // second boots on a schema that is already there.
    for (const name of INSTANCE_NAMES.slice(0, count)) {
      const dataDir = path.join(root, `instance-${name}`);
      const server = await spawnServer({
        LOG_LEVEL: "warn",
        ...options.env,
        ...storeEnv,
        OPSDESK_DATA_DIR: dataDir,
        DATABASE_URL: databaseUrl,
        OPSDESK_SECRET: SECRET,
        OPSDESK_ADMIN_EMAIL: ADMIN.email,
        OPSDESK_ADMIN_PASSWORD: ADMIN.password,
        TRUST_PROXY: "1",
      });
      children.push(server.child);
      instances.push(asInstance(name, server));
      await waitForReady(server, 60_000);
    }

    const haproxy = await startHaproxy(root, instances, options.checkIntervalMs ?? 200);
    children.push(haproxy.child);
    cleanups.push(() => haproxy.stop());
    await waitFor(async () => Object.values(await haproxy.serverStates()).every((s) => s === "UP"), 15_000, () => haproxy.output());

    let stopping: Promise<void> | undefined;
    return {
      url: haproxy.url,
      instances,
      databaseUrl,
      admin: { ...ADMIN },
      secret: SECRET,
      s3,
      artifactDir,
      serverStates: haproxy.serverStates,
      currentSessions: haproxy.currentSessions,
      haproxyOutput: haproxy.output,
      stop: () => {
        stopping ??= runCleanups();
        return stopping;
      },
    };
  } catch (error) {
    await runCleanups();
    throw error;
  }
}

function asInstance(name: string, server: ServerProcess): ClusterInstance {
  return { name, url: server.url, child: server.child, pid: server.child.pid!, output: server.output, exited: server.exited };
}

/** A fresh database on the given server, or an embedded PostgreSQL of its own. */
async function startDatabase(root: string, serverUrl: string | undefined, cleanups: (() => Promise<void> | void)[]): Promise<string> {
  if (!serverUrl) {
    const embedded: EmbeddedPostgres = await startEmbeddedPostgres({
      dataDir: path.join(root, "postgres-data"),
      log: createLogger("silent"),
      database: "opsdesk",
    });
    cleanups.push(() => embedded.stop());
    return embedded.url;
  }
  const name = `opsdesk_cluster_${randomBytes(6).toString("hex")}`;
  await adminQuery(serverUrl, `create database "${name}"`);
  cleanups.push(() => adminQuery(serverUrl, `drop database if exists "${name}" with (force)`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const url = new URL(serverUrl);
  url.pathname = "/postgres";
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** SIGTERM every instance still running; SIGKILL what is left after 20 s. */
async function stopInstances(instances: ClusterInstance[]): Promise<void> {
  await Promise.all(
    instances.map(async (instance) => {
      if (instance.child.exitCode !== null || instance.child.signalCode !== null) return;
      instance.child.kill("SIGTERM");
      const timer = setTimeout(() => instance.child.kill("SIGKILL"), 20_000);
      await instance.exited;
      clearTimeout(timer);
    }),
  );
}

type Haproxy = {
  url: string;
  child: ChildProcess;
  output: () => string;
  serverStates: () => Promise<Record<string, string>>;
  currentSessions: () => Promise<Record<string, number>>;
  stop: () => Promise<void>;
};

/**
 * Debian's haproxy with a generated config. Round robin without stickiness, so
 * consecutive requests of one client land on different instances. A server is taken out
 * after 2 failed checks of /readyz and back after 1; a connection refused by a server
 * that is going away is retried on the other one (`retry-on conn-failure` +
 * `option redispatch 1`: every retry picks another server), safe for any method since
 * nothing reached the app.
 * Timeouts are long: uploads over slow links and long downloads stream through.
 * Each response names its instance in `X-OpsDesk-Instance` (haproxy's server name).
 */
async function startHaproxy(root: string, instances: ClusterInstance[], checkIntervalMs: number): Promise<Haproxy> {
  const port = await freePort();
  const socket = path.join(root, "haproxy.sock");
  const configFile = path.join(root, "haproxy.cfg");
  const servers = instances.map((i) => `  server ${i.name} ${new URL(i.url).host} check`).join("\n");
  writeFileSync(
    configFile,
    `global
  maxconn 2048
  stats socket ${socket} mode 600 level admin

defaults
  mode http
  option forwardfor
  option redispatch 1
  retries 2
  retry-on conn-failure
  timeout connect 2s
  timeout client 10m
  timeout server 10m
  timeout http-request 60s
  timeout http-keep-alive 5s
  timeout queue 10s
  # A check has 2 s to answer whatever its interval (without this line the interval is
  # also the timeout, and a busy instance missed 200 ms checks).
  timeout check 2s

frontend opsdesk
  bind 127.0.0.1:${port}
  default_backend instances

backend instances
  balance roundrobin
  option httpchk
  http-check send meth GET uri /readyz
  http-check expect status 200
  # Which instance answered: tests and the benchmark check the spread with it.
  http-response set-header X-OpsDesk-Instance %s
  default-server inter ${checkIntervalMs}ms fastinter ${checkIntervalMs}ms downinter ${checkIntervalMs}ms fall 2 rise 1
${servers}
`,
  );
  let output = "";
  const child = spawn("haproxy", ["-db", "-f", configFile], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("error", (error) => {
    output += `\n${error.message}`;
  });
  const serverStates = async () => serverColumn(await haproxyCommand(socket, "show stat"), STATUS_COLUMN);
  const currentSessions = async () =>
    Object.fromEntries(Object.entries(serverColumn(await haproxyCommand(socket, "show stat"), SCUR_COLUMN)).map(([k, v]) => [k, Number(v)]));
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`haproxy exited:\n${output}`);
      return haproxyCommand(socket, "show info").then(
        () => true,
        () => false,
      );
    },
    10_000,
    () => output,
  );
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => output,
    serverStates,
    currentSessions,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // SIGUSR1 is haproxy's soft stop; SIGTERM its hard stop: nothing should be left in flight here.
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// Columns of haproxy's `show stat` CSV (0-based): see "9.1. CSV format" in its management guide.
const SCUR_COLUMN = 4;
const STATUS_COLUMN = 17;

function serverColumn(csv: string, column: number): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of csv.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const fields = line.split(",");
    const [proxy, server] = fields;
    if (proxy !== "instances" || !server || server === "BACKEND" || server === "FRONTEND") continue;
    values[server] = fields[column] ?? "";
  }
  return values;
}

function haproxyCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const connection = createConnection(socket);
    let data = "";
    connection.setTimeout(2_000, () => connection.destroy(new Error("haproxy stats socket timed out")));
    connection.on("connect", () => connection.end(`${command}\n`));
    connection.on("data", (d) => {
      data += d;
    });
    connection.on("end", () => resolve(data));
    connection.on("error", reject);
  });
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, explain: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms:\n${explain()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
