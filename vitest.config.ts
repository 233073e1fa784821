import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const alias = { "~": fileURLToPath(new URL("./app", import.meta.url)) };

// Two projects: unit tests need nothing; integration tests get a real PostgreSQL
// (embedded, or TEST_DATABASE_URL) from the global setup and a database of their own.
export default defineConfig({
  resolve: { alias },
  test: {
    // Two files at a time even on two cores (Vitest's default would be one): every
    // integration file has a database of its own, and the longest mostly wait (a 50 kB/s
    // upload, drains, restarts), so a pair overlaps them: ~330 s -> ~240 s here. Set here
    // for both projects: Vitest 4 refuses projects with different maxWorkers in one group,
    // and then exits 0 without running a test.
    maxWorkers: 2,
    projects: [
      {
        resolve: { alias },
        test: {
          name: "unit",
          include: ["tests/unit/**/*.test.ts"],
          setupFiles: ["tests/support/fail-on-console-error.ts"],
        },
      },
      {
        resolve: { alias },
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          setupFiles: ["tests/support/fail-on-console-error.ts"],
          globalSetup: ["tests/support/global-setup.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
