import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { freePort } from "../../db/embedded-postgres";
import { TEST_APP_SECRET } from "../support/fleet-seed";
import type { FleetFacts } from "../support/fleet-server";
import { makeTempDir } from "../support/temp-dir";

/**
 * The app the Lighthouse bench measures: the same realistic fleet as the page-weight e2e
 * specs (tests/support/fleet-server.ts: 10,000 hosts, 100 artifacts, 100,000 audit
 * events, a metrics history on the artifact host), the production build in its own
 * process, so Lighthouse's Chromium and the server do not share this event loop.
 */
export type FleetApp = FleetFacts & { stop: () => Promise<void> };

export async function startFleetApp(): Promise<FleetApp> {
  const dataDir = makeTempDir("opsdesk-bench-lighthouse-");
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "tests/support/fleet-server.ts"], {
    env: { ...process.env, NODE_ENV: "production", E2E_FLEET_DATA_DIR: dataDir, E2E_FLEET_PORT: String(port), OPSDESK_SECRET: TEST_APP_SECRET },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (out.includes("fleet ready")) resolve();
    });
    void exited.then((code) => reject(new Error(`the fleet server exited (${code}) before it was ready:\n${out}`)));
  });
  const timeout = setTimeout(() => child.kill("SIGTERM"), 120_000);
  try {
    await ready;
  } finally {
    clearTimeout(timeout);
  }
  const facts = JSON.parse(readFileSync(path.join(dataDir, "fleet.json"), "utf8")) as FleetFacts;
  return {
    ...facts,
    // The fleet server passes SIGTERM to the app and removes its data directory once it has exited.
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * Signs in through the login form, as a browser without JavaScript does, and returns the
 * session cookies it set (name=value pairs, cleared ones left out) for a Cookie header.
 */
export async function signInWithForm(app: Pick<FleetFacts, "baseURL" | "adminEmail" | "password">): Promise<string> {
  const body = new URLSearchParams({ email: app.adminEmail, password: app.password, redirectTo: "/hosts" });
  const res = await fetch(`${app.baseURL}/login?index`, { method: "POST", body, headers: { origin: app.baseURL }, redirect: "manual" });
  const cookies = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0] ?? "")
    .filter((pair) => /^[^=]+=.+/.test(pair));
  if (res.status !== 302 || !cookies.some((c) => c.startsWith("opsdesk_at="))) {
    throw new Error(`the login form answered ${res.status} without a session cookie: ${(await res.text()).slice(0, 200)}`);
  }
  return cookies.join("; ");
}
