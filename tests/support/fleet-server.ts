/**
 * The e2e app with a realistic fleet (ADR 024), started by playwright.config.ts as its
 * second webServer for the page-weight and slow-link specs:
 *
 *   1. embedded PostgreSQL in E2E_FLEET_DATA_DIR, migrations, `seedFleet` (10,000 hosts,
 *      100 artifacts on one host, 100,000 audit events, all by COPY), PostgreSQL stopped;
 *   2. `node scripts/serve.mjs` on that data directory (the production build, as in e2e);
 *   3. metrics for the artifact host through the app's own `metrics.update` against a
 *      Prometheus stub (a snapshot history, so the page has gauges and a sparkline);
 *   4. the fleet's facts written to `fleet.json` beside the data, then "fleet ready" on
 *      stdout, which is what Playwright waits for.
 *
 * SIGTERM/SIGINT are passed to the app, which stops its PostgreSQL; the data directory is
 * removed once the app has exited. Run: `node --import tsx tests/support/fleet-server.ts`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createOpsDeskClient } from "../../server/client";
import { startEmbeddedPostgres } from "../../db/embedded-postgres";
import { migrateUp, openOrm } from "../../db/orm";
import { createLogger } from "../../server/logger";
import { type FleetSeed, seedFleet } from "./fleet-seed";
import { HEALTHY_NODE_RESULTS, startPrometheusStub } from "./prometheus-stub";

/** What the specs read from `fleet.json`. */
export type FleetFacts = Pick<FleetSeed, "hostCount" | "artifactHostId" | "adminEmail" | "password" | "users" | "auditEventCount"> & {
  baseURL: string;
  seedMs: number;
};

export const FLEET_SIZE = { hosts: 10_000, artifacts: 100, auditEvents: 100_000 } as const;
/** Metrics updates on the measured host: enough history for a sparkline like a lived-in one. */
const METRICS_UPDATES = 12;

const dataDir = requiredEnv("E2E_FLEET_DATA_DIR");
const port = Number(requiredEnv("E2E_FLEET_PORT"));
const secret = requiredEnv("OPSDESK_SECRET");
const baseURL = `http://127.0.0.1:${port}`;

let app: ChildProcess | null = null;
let seedFacts: FleetSeed;
let stopping: string | null = null;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    stopping = signal;
    if (app) app.kill(signal);
  });
}


/** Seeds the fleet on a PostgreSQL of its own that is stopped again before the app starts. */
async function seed(): Promise<number> {
  const started = performance.now();
  const log = createLogger("warn");
  const db = await startEmbeddedPostgres({ dataDir, log });
  try {
    const orm = await openOrm(db.url, log);
    try {
      await migrateUp(orm);
    } finally {
      await orm.close(true);
    }
    seedFacts = await seedFleet(db.url, { ...FLEET_SIZE, secret, artifactDir: path.join(dataDir, "artifacts") });
  } finally {
    await db.stop();
  }
  const ms = Math.round(performance.now() - started);
  const t = seedFacts.timingsMs;
  process.stdout.write(
    `fleet seeded in ${ms} ms (users ${t.users.toFixed(0)}, hosts ${t.hosts.toFixed(0)}, artifacts ${t.artifacts.toFixed(0)}, audit ${t.audit.toFixed(0)}, analyze ${t.analyze.toFixed(0)} ms)\n`,
  );
  return ms;
}

async function waitForReady(exited: Promise<number>): Promise<void> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !gone) {
    const ok = await fetch(`${baseURL}/readyz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(gone ? "the app exited while starting" : "the app was not ready within 60 s");
}

/** Snapshots for the measured host through the app's own update path; Prometheus unset after. */
async function addMetrics(seedMs: number): Promise<FleetFacts> {
  const anonymous = createOpsDeskClient({ url: baseURL });
  const login = await anonymous.auth.login.mutate({ email: seedFacts.adminEmail, password: seedFacts.password });
  if (login.status !== "ok") throw new Error(`the fleet admin's sign-in answered ${login.status}`);
  const client = createOpsDeskClient({ url: baseURL, token: login.accessToken });
  for (let i = 0; i < METRICS_UPDATES; i++) {
    // A stub per update with its own CPU figure, so the sparkline has a real shape.
    const stub = await startPrometheusStub({
      kind: "results",
      results: { ...HEALTHY_NODE_RESULTS, node_cpu_seconds_total: 5 + ((i * 37) % 90) },
    });
    try {
      await client.settings.update.mutate({ "prometheus.url": stub.url });
      await client.metrics.update.mutate({ hostId: seedFacts.artifactHostId });
    } finally {
      await stub.close();
    }
  }
  await client.settings.update.mutate({ "prometheus.url": "" });
  const { hostCount, artifactHostId, adminEmail, password, users, auditEventCount } = seedFacts;
  return { hostCount, artifactHostId, adminEmail, password, users, auditEventCount, baseURL, seedMs };
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (playwright.config.ts sets it)`);
  return value;
}

try {
  const seedMs = await seed();
  if (stopping) {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  }
  app = spawn(process.execPath, ["scripts/serve.mjs"], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, PORT: String(port), OPSDESK_DATA_DIR: dataDir, OPSDESK_SECRET: secret },
  });
  const exited = new Promise<number>((resolve) => app?.once("exit", (code) => resolve(code ?? 0)));
  void exited.then((code) => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(stopping ? 0 : code || 1);
  });
  await waitForReady(exited);
  const seeded = await addMetrics(seedMs);
  writeFileSync(path.join(dataDir, "fleet.json"), JSON.stringify(seeded));
  process.stdout.write(`fleet ready: ${seeded.hostCount} hosts, ${seeded.auditEventCount} audit events, seeded in ${seedMs} ms\n`);
} catch (error) {
  process.stderr.write(`fleet server failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  if (app) app.kill("SIGTERM");
  else {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(1);
  }
}
