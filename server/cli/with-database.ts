import { type EmbeddedPostgres, startEmbeddedPostgres } from "../../db/embedded-postgres";
import { migrateUp, type Orm, openOrm } from "../../db/orm";
import { type Config, ConfigError, loadConfig } from "../config";
import { createLogger } from "../logger";

/**
 * Runs a maintenance task against the same database `npm start` would use (embedded under
 * OPSDESK_DATA_DIR unless DATABASE_URL is set), then closes everything.
 */
export async function withDatabase(task: (orm: Orm, config: Config) => Promise<void>, options = { migrate: true }) {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.logLevel === "info" ? "warn" : config.logLevel);
  let embedded: EmbeddedPostgres | undefined;
  let orm: Orm | undefined;
  try {
    if (!config.databaseUrl) embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, log });
    const url = config.databaseUrl ?? embedded!.url;
    orm = await openOrm(url, log);
    if (options.migrate) await migrateUp(orm);
    await task(orm, config);
  } finally {
    await orm?.close(true);
    await embedded?.stop();
  }
}
