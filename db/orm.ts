import { Migrator } from "@mikro-orm/migrations";
import pg from "pg";
import { MikroORM, type Options, PostgreSqlDriver } from "@mikro-orm/postgresql";
import type { Logger } from "../server/logger";
import { entities } from "./entities";
import { migrationsList } from "./migrations";

export type Orm = MikroORM;

export function ormOptions(databaseUrl: string, log?: Logger): Options {
  return {
    driver: PostgreSqlDriver,
    clientUrl: databaseUrl,
    entities,
    discovery: { warnWhenNoEntities: false },
    extensions: [Migrator],
    migrations: {
      migrationsList,
      tableName: "mikro_orm_migrations",
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      path: "db/migrations",
      pathTs: "db/migrations",
    },
    // The request-scoped fork is explicit (see server/http/load-context.ts); the global
    // EntityManager must never be used for a request's work by accident.
    allowGlobalContext: false,
    pool: { min: 0, max: 10, idleTimeoutMillis: 10_000 },
    // Fail fast when PostgreSQL is away (ADR 017): a connection attempt gives up after
    // 5 s and a request waits at most 10 s for a pooled connection, then answers 503.
    driverOptions: { connection: { connectionTimeoutMillis: 5_000 }, acquireConnectionTimeout: 10_000 },
    debug: false,
    logger: (message) => log?.debug({ orm: message }),
    forceUtcTimezone: true,
  };
}

export async function openOrm(databaseUrl: string, log?: Logger): Promise<Orm> {
  return MikroORM.init(ormOptions(databaseUrl, log));
}

/** Advisory-lock key held while migrations run: instances booting together migrate one at a time. */
const MIGRATION_LOCK = 727_000;

/**
 * Applies pending migrations. Several instances may boot at the same moment on one
 * database (ADR 020): a session-level advisory lock on a connection of its own makes the
 * others wait, and they then find nothing pending. The lock goes with the connection, so a
 * crashed migrator releases it.
 */
export async function migrateUp(orm: Orm): Promise<string[]> {
  const lockClient = new pg.Client({ connectionString: orm.config.get("clientUrl"), connectionTimeoutMillis: 5_000 });
  await lockClient.connect();
  try {
    await lockClient.query("select pg_advisory_lock($1)", [MIGRATION_LOCK]);
    const applied = await orm.getMigrator().up();
    return applied.map((m) => m.name);
  } finally {
    await lockClient.end().catch(() => {});
  }
}
