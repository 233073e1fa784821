import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { defineConfig } from "@playwright/test";
import { chromium } from "@playwright/test";

/**
 * e2e runs on the production build (`remix build` output: a dev build cannot run under
 * the production server), in Chromium with JavaScript on and off. Chromium comes from
 * CHROMIUM_PATH, else Debian's /usr/bin/chromium, else Playwright's own; with none, the
 * suites are reported as skipped with the reason (tests/e2e/fixtures.ts).
 */
function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium"];
  try {
    candidates.push(chromium.executablePath());
  } catch {
    // Playwright has no browser of its own here
  }
  return candidates.find((c): c is string => Boolean(c && existsSync(c))) ?? null;
}

const browser = findChromium();
process.env.OPSDESK_E2E_BROWSER = browser ?? "";

// The config is evaluated in the runner and again in each worker: choices made here are
// kept in the environment (which workers inherit) so every process agrees on them.
process.env.E2E_PORT ??= String(3300 + Math.floor(Math.random() * 600));
const madeHere: string[] = [];
/** A temp dir made once per run, by the first process that reads the config (the runner). */
function runTempDir(variable: string, prefix: string): string {
  if (!process.env[variable]) {
    process.env[variable] = mkdtempSync(path.join(tmpdir(), prefix));
    madeHere.push(process.env[variable]);
  }
  return process.env[variable];
}
// The runner removes what it made when it exits, after it has stopped the web servers;
// workers inherit the paths, not the duty.
process.once("exit", () => {
  for (const dir of madeHere) rmSync(dir, { recursive: true, force: true });
});
const dataDir = runTempDir("E2E_DATA_DIR", "opsdesk-e2e-");
const port = Number(process.env.E2E_PORT);
const baseURL = `http://127.0.0.1:${port}`;
// Each run gets its own data directory (above): two runs never share a database.
chmodSync(dataDir, 0o755);
// The realistic fleet (ADR 024): its own app, port and data directory, seeded before it
// starts by tests/support/fleet-server.ts, which removes the directory when it stops.
process.env.E2E_FLEET_PORT ??= String(port + 1000);
process.env.E2E_FLEET_SECRET ??= randomBytes(32).toString("base64url");
const fleetURL = `http://127.0.0.1:${process.env.E2E_FLEET_PORT}`;
const withFleet = fleetProjectMayRun(process.argv);
if (withFleet) chmodSync(runTempDir("E2E_FLEET_DATA_DIR", "opsdesk-e2e-fleet-"), 0o755);
/** Specs that measure pages as a real fleet makes them: they run only against the fleet app. */
const FLEET_SPECS = [/page-weight\.spec\.ts$/, /slow-link\.spec\.ts$/];

/**
 * The fleet app costs ~15 s of seeding: it is left out only when the command line names
 * projects and none of them can be `fleet` (e.g. `--project js`). Any other name, or no
 * --project at all, starts it.
 */
function fleetProjectMayRun(argv: string[]): boolean {
  const asked: string[] = [];
  argv.forEach((arg, i) => {
    if (arg === "--project" && argv[i + 1]) asked.push(argv[i + 1]!);
    else if (arg.startsWith("--project=")) asked.push(arg.slice("--project=".length));
  });
  return asked.length === 0 || asked.some((name) => name !== "js" && name !== "no-js");
}

export const E2E_ADMIN = { email: "admin@e2e.test", password: "e2e-admin-password-123" };

/** The second webServer: the app on the realistic fleet (tests/support/fleet-server.ts). */
function fleetServer() {
  return {
    command: "node --import tsx tests/support/fleet-server.ts",
    // Printed once the fleet is seeded, the app answers /readyz and the host has metrics.
    wait: { stdout: /fleet ready/ },
    reuseExistingServer: false,
    timeout: 180_000,
    stdout: "pipe" as const,
    stderr: "pipe" as const,
    gracefulShutdown: { signal: "SIGTERM" as const, timeout: 10_000 },
    env: {
      E2E_FLEET_PORT: process.env.E2E_FLEET_PORT!,
      E2E_FLEET_DATA_DIR: process.env.E2E_FLEET_DATA_DIR!,
      OPSDESK_SECRET: process.env.E2E_FLEET_SECRET!,
      LOG_LEVEL: "warn",
      E2E: "1",
    },
  };
}

export default defineConfig({
  testDir: "tests/e2e",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "off",
    launchOptions: {
      executablePath: browser ?? undefined,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  projects: [
    { name: "js", use: { javaScriptEnabled: true }, testIgnore: FLEET_SPECS },
    { name: "no-js", use: { javaScriptEnabled: false }, testIgnore: FLEET_SPECS },
    // JavaScript on: the specs block or delay scripts themselves where they need to.
    { name: "fleet", use: { javaScriptEnabled: true, baseURL: fleetURL }, testMatch: FLEET_SPECS },
  ],
  webServer: [
    {
      command: "node scripts/serve.mjs",
      url: `${baseURL}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "pipe",
      // SIGTERM, not SIGKILL: the server then stops its embedded PostgreSQL cleanly.
      gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
      env: {
        PORT: String(port),
        OPSDESK_DATA_DIR: dataDir,
        OPSDESK_ADMIN_EMAIL: E2E_ADMIN.email,
        OPSDESK_ADMIN_PASSWORD: E2E_ADMIN.password,
        LOG_LEVEL: "warn",
        E2E: "1",
      },
    },
    ...(withFleet ? [fleetServer()] : []),
  ],
});
