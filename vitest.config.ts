import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const alias = { "~": fileURLToPath(new URL("./app", import.meta.url)) };

// Two projects: unit tests need nothing; integration tests get a real PostgreSQL
// (embedded, or TEST_DATABASE_URL) from the global setup and a database of their own.
export default defineConfig({
  resolve: { alias },
  test: {
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
          // Two files at a time even on two cores (Vitest's default would be one): every file
          // has a database of its own, and the longest files mostly wait (a 50 kB/s upload,
          // drains, restarts), so a pair overlaps them: ~330 s -> ~240 s of the suite here.
          maxWorkers: 2,
        },
      },
    ],
  },
});
