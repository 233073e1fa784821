import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Config, loadConfig } from "../../server/config";

/** A valid configuration for tests, with its own data directory and a fixed secret. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  const dataDir = mkdtempSync(path.join(tmpdir(), "opsdesk-test-data-"));
  return {
    ...loadConfig({
      NODE_ENV: "test",
      OPSDESK_DATA_DIR: dataDir,
      OPSDESK_SECRET: "test-secret-test-secret-test-secret-0123",
    }),
    ...overrides,
  };
}
