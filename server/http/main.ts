import type { Server } from "node:http";
import type { ServerBuild } from "@remix-run/node";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../../db/embedded-postgres";
import { migrateUp, openOrm } from "../../db/orm";
import { ConfigError, type Environment, loadConfig } from "../config";
import { limitHeapHeadroom } from "../heap-headroom";
import { createLogger, type Logger } from "../logger";
import { ensureFirstAdmin } from "../services/users.service";
import { configureServerTimeouts, createHttpApp } from "./app";
import { artifactStorage, type Runtime } from "./runtime";
import { drainAndClose, trackUploads } from "./shutdown";
import { setPoolStatsSource } from "../observability/app-metrics";
import { createArtifactStorage } from "../services/artifacts/create-storage";
import { startCleanupTimer } from "../services/maintenance.service";
import { getSettings } from "../services/settings.service";
import { VERSION } from "../version";

/**
 * Boots one OpsDesk process: configuration → database (embedded unless DATABASE_URL) →
 * migrations → first admin → HTTP. Called from the Remix server build so that the app's
 * routes and this entry share one copy of every module and one ORM.
 */
export async function runServer(build: ServerBuild, env: Environment = process.env): Promise<void> {
  // Trapped before anything starts: a signal during boot (while PostgreSQL starts, say)
  // must not kill the process with its database still running (issue 17).
  const signals = trapShutdownSignals();
  limitHeapHeadroom();
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nOpsDesk did not start.\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  let embedded: EmbeddedPostgres | undefined;
  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, log });
      databaseUrl = embedded.url;
      log.info({ dataDir: config.dataDir }, "embedded PostgreSQL started");
    }
    if (signals.requested()) return await stopDuringBoot(signals.requested(), log, embedded);
    const orm = await openOrm(databaseUrl, log);
    const applied = await migrateUp(orm);
    if (applied.length) log.info({ migrations: applied }, "migrations applied");
    const admin = await ensureFirstAdmin(orm.em.fork(), config);
    if (admin) announceFirstAdmin(admin, log);

    // Uploads are counted so that shutdown can wait for interrupted ones to clean up.
    const uploads = trackUploads(createArtifactStorage(config));
    const runtime: Runtime = { config, log, orm, startedAt: new Date(), version: VERSION, draining: false, storage: uploads.storage };
    // A wrong bucket, key or endpoint is a configuration error: say so now, not at the first upload.
    await artifactStorage(runtime).check();
    log.info({ artifactStore: config.artifactStore }, "artifact store ready");
    setPoolStatsSource(() => poolStats(orm));
    const stopCleanup = startCleanupTimer(
      () => orm.em.fork(),
      artifactStorage(runtime),
      async () => (await getSettings(orm.em.fork(), config))["metrics.cleanupIntervalSeconds"],
      log,
    );
    const app = createHttpApp(runtime, build);
    const server = app.listen(config.port, config.host);
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
    configureServerTimeouts(server);
    log.info({ url: `http://${config.host}:${config.port}` }, "OpsDesk is listening");
    if (process.env.REMIX_DEV_ORIGIN) {
      const { broadcastDevReady } = await import("@remix-run/node");
      await broadcastDevReady(build);
    }
    installShutdown(server, runtime, embedded, stopCleanup, signals, uploads.settled);
  } catch (error) {
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\nOpsDesk did not start.\n`);
    log.fatal({ err: error }, "OpsDesk failed to start");
    await embedded?.stop().catch(() => undefined);
    process.exit(1);
  }
}

function announceFirstAdmin(admin: { email: string; generatedPassword: string | null }, log: Logger): void {
  log.info({ email: admin.email }, "first admin created");
  if (!admin.generatedPassword) return;
  // Printed once to the console (not the JSON log) so it is seen and not shipped to a
  // log store; it cannot be shown again.
  const line = "=".repeat(64);
  process.stdout.write(
    `\n${line}\n  OpsDesk first admin (shown once — change it on /account)\n  email:    ${admin.email}\n  password: ${admin.generatedPassword}\n${line}\n\n`,
  );
}

type ShutdownSignals = { requested(): string | null; onSignal(handler: (signal: string) => void): void };

/** Records SIGTERM/SIGINT from the first moment; the handler set later gets any signal already seen. */
function trapShutdownSignals(): ShutdownSignals {
  let requested: string | null = null;
  let handler: ((signal: string) => void) | null = null;
  const receive = (signal: string) => {
    requested ??= signal;
    handler?.(signal);
  };
  process.on("SIGTERM", () => receive("SIGTERM"));
  process.on("SIGINT", () => receive("SIGINT"));
  return {
    requested: () => requested,
    onSignal(next) {
      handler = next;
      if (requested) next(requested);
    },
  };
}

/** A signal came while booting, before anything served: stop the database, exit 0. */
async function stopDuringBoot(signal: string | null, log: Logger, embedded: EmbeddedPostgres | undefined): Promise<never> {
  log.info({ signal }, "shutting down during start-up");
  await embedded?.stop().catch((err) => log.error({ err }, "stopping PostgreSQL failed"));
  log.info("stopped");
  process.exit(0);
}

/**
 * SIGTERM/SIGINT: /readyz turns 503 at once, serving goes on for SHUTDOWN_DRAIN_SECONDS so
 * a load balancer can take the instance out, then the listener closes, in-flight requests
 * finish (ADR 023); then the ORM and the embedded database stop and the process exits 0.
 */
function installShutdown(
  server: Server,
  runtime: Runtime,
  embedded: EmbeddedPostgres | undefined,
  stopCleanup: () => void,
  signals: ShutdownSignals,
  uploadsSettled: (timeoutMs: number) => Promise<boolean>,
): void {
  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    runtime.draining = true;
    stopCleanup();
    runtime.log.info({ signal }, "shutting down");
    await drainAndClose(server, { drainMs: runtime.config.shutdownDrainMs, uploadsSettled, log: runtime.log });
    await runtime.readiness?.close();
    await runtime.orm.close(true).catch((err) => runtime.log.error({ err }, "closing the ORM failed"));
    await embedded?.stop().catch((err) => runtime.log.error({ err }, "stopping PostgreSQL failed"));
    runtime.log.info("stopped");
    process.exit(0);
  };
  signals.onSignal((signal) => void shutdown(signal));
}

type KnexPool = { numUsed(): number; numFree(): number; numPendingAcquires(): number };

function poolStats(orm: Runtime["orm"]) {
  const pool = (orm.em.getConnection().getKnex().client as { pool?: KnexPool }).pool;
  return pool
    ? { used: pool.numUsed(), free: pool.numFree(), pending: pool.numPendingAcquires() }
    : { used: 0, free: 0, pending: 0 };
}
