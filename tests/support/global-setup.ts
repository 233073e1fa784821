import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../../db/embedded-postgres";
import { createLogger } from "../../server/logger";

/**
 * One PostgreSQL for the whole run: the server at TEST_DATABASE_URL when set, else an
 * embedded PostgreSQL 16 in a fresh temporary directory. Each test file then creates a
 * database of its own (tests/support/database.ts), so files never see each other's rows.
 */
export default async function setup(project: TestProject) {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    project.provide("postgresUrl", external);
    return;
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), "opsdesk-test-pg-"));
  const pg = await startEmbeddedPostgres({ dataDir, log: createLogger("silent"), database: "postgres" });
  project.provide("postgresUrl", pg.url);
  return async () => {
    await pg.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}
