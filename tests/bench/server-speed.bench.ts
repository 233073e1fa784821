import { isDeepStrictEqual } from "node:util";
import { rmSync } from "node:fs";
import type { Server } from "node:http";
import path from "node:path";
import { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import type { ServerBuild } from "@remix-run/node";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { configureServerTimeouts, createHttpApp } from "../../server/http/app";
import type { Runtime } from "../../server/http/runtime";
import { limitHeapHeadroom } from "../../server/heap-headroom";
import { createLogger } from "../../server/logger";
import { KNOWN_AUDIT_ACTIONS } from "../../server/services/audit-query.service";
import { trpc } from "../support/app-server";
import { testConfig } from "../support/config";
import { type FleetSeed, seedFleet } from "../support/fleet-seed";
import { startBareServer } from "./server-speed-bare";
import { type BenchDatabase, startBenchDatabase } from "./support";

/**
 * Server speed on a realistic fleet (10,000 hosts, 100,000 audit events): requests per
 * second and p99 latency of the app against a bare `node:http` + `pg` handler that runs
 * the same SQL and writes the same JSON, or equivalent HTML without hydration, measured in
 * the same run with autocannon (10 connections, from a child process so the load
 * generator shares neither the servers' event loop nor their CPU accounting). Beside
 * req/s, each server's CPU time per request (this process's, so PostgreSQL's is left
 * out: both run the same SQL) is printed: steadier than req/s on a shared machine. Goals: JSON ≥ 0.6× the bare handler's req/s,
 * pages ≥ 0.4×. Each answer is measured in BENCH_ROUNDS interleaved rounds (default 3) of
 * BENCH_SECONDS each (default 3); medians are printed, the ratio is the median of the rounds'.
 *
 * Numbers from a shared machine are noisy: compare ratios from one run, not across runs.
 * BENCH_PROFILE=<dir> writes a V8 CPU profile of the app's rounds of each answer there
 * (`npx tsx tests/bench/cpu-profile-top.ts <file>` summarises one).
 */

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 10;
const PROFILE_DIR = process.env.BENCH_PROFILE;

type Target = { name: string; path: string; goal: number; kind: "json" | "html" };

export async function run(): Promise<void> {
  // As scripts/serve.mjs does: React and Remix pick their production code when loaded
  // (React's development build renders pages about three times slower).
  process.env.NODE_ENV ??= "production";
  const db = await startBenchDatabase();
  const cleanups: (() => Promise<void>)[] = [() => db.close()];
  try {
    const seed = await seedFleet(db.url);
    console.log(`fleet: ${seed.hostCount.toLocaleString("en-US")} hosts, ${seed.auditEventCount.toLocaleString("en-US")} audit events, seeded in ${(seed.timingsMs.total / 1000).toFixed(1)} s`);
    const app = await startApp(db);
    cleanups.unshift(app.stop);
    const session = await signIn(app.url, seed);
    const stylesheet = await stylesheetOf(app.url, session.cookie);
    await warnIfReactDevelopment();
    const bare = await startBareServer(db.url, { userId: seed.adminUserId, sessionId: session.sessionId, email: seed.adminEmail, role: "admin" }, { stylesheet, actions: KNOWN_AUDIT_ACTIONS });
    cleanups.unshift(bare.close);

    const deepCursor = await deepHostCursor(db, Math.floor(seed.hostCount * 0.75));
    const list = (input: Record<string, unknown>) => `/api/trpc/hosts.list?input=${encodeURIComponent(JSON.stringify(input))}`;
    const targets: Target[] = [
      { name: "hosts.list, first page", path: list({ limit: 50 }), goal: 0.6, kind: "json" },
      { name: "hosts.list, tag filter", path: list({ limit: 50, tags: ["team:payments"] }), goal: 0.6, kind: "json" },
      { name: "hosts.list, keyset page at 75%", path: list({ limit: 50, cursor: deepCursor }), goal: 0.6, kind: "json" },
      { name: "/hosts page", path: "/hosts", goal: 0.4, kind: "html" },
      { name: "/hosts/:id page (100 artifacts)", path: `/hosts/${seed.artifactHostId}`, goal: 0.4, kind: "html" },
      { name: "/audit page (100,000 events)", path: "/audit", goal: 0.4, kind: "html" },
    ];

    console.log(`autocannon: ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${SECONDS} s each after 1 s of warm-up; medians`);
    console.log(`  ${"answer".padEnd(34)} ${"app req/s".padStart(9)} ${"p99".padStart(8)} ${"bare req/s".padStart(10)} ${"p99".padStart(8)} ${"ratio".padStart(6)}  goal`);
    for (const target of targets) {
      // The access token lives 10 minutes: a fresh one for each answer keeps a long run valid.
      const fresh = await signIn(app.url, seed);
      const appHeaders: Record<string, string> = target.kind === "json" ? { authorization: `Bearer ${fresh.token}` } : { cookie: fresh.cookie };
      const sql = queriesOf(db);
      const sizes = await checkSameAnswer(target, `${app.url}${target.path}`, appHeaders, `${bare.url}${target.path}`);
      const statements = sql.stop();
      if (process.env.BENCH_QUERY_LOG) for (const statement of statements) console.log(`    sql: ${statement.slice(0, 160)}`);
      // Interleaved rounds, alternating which goes first, so a burst of load from the rest
      // of the machine hits both; medians of the rounds are reported.
      const rounds: { app: Measured; bare: Measured }[] = [];
      const profiler = PROFILE_DIR ? await startProfiler(PROFILE_DIR) : null;
      await warmUp(`${app.url}${target.path}`, appHeaders);
      await warmUp(`${bare.url}${target.path}`, {});
      for (let round = 0; round < ROUNDS; round++) {
        const appFirst = round % 2 === 0;
        const first = await measure(appFirst ? `${app.url}${target.path}` : `${bare.url}${target.path}`, appFirst ? appHeaders : {}, appFirst ? profiler : null);
        const second = await measure(appFirst ? `${bare.url}${target.path}` : `${app.url}${target.path}`, appFirst ? {} : appHeaders, appFirst ? null : profiler);
        rounds.push(appFirst ? { app: first, bare: second } : { app: second, bare: first });
      }
      await profiler?.write(target.name);
      const appResult = medianOf(rounds.map((r) => r.app));
      const queryCount = `${statements.length} SQL`;
      const bareResult = medianOf(rounds.map((r) => r.bare));
      const ratio = median(rounds.map((r) => r.app.rps / r.bare.rps));
      const verdict = ratio >= target.goal ? "PASS" : "MISS";
      const cpuRatio = bareResult.cpuMsPerRequest / appResult.cpuMsPerRequest;
      console.log(
        `  ${target.name.padEnd(34)} ${appResult.rps.toFixed(0).padStart(9)} ${`${appResult.p99} ms`.padStart(8)} ${bareResult.rps.toFixed(0).padStart(10)} ${`${bareResult.p99} ms`.padStart(8)} ${`${ratio.toFixed(2)}x`.padStart(6)}  ≥ ${target.goal}x ${verdict}` +
          `  | ${queryCount}, CPU/req app ${appResult.cpuMsPerRequest.toFixed(2)} ms, bare ${bareResult.cpuMsPerRequest.toFixed(2)} ms (${cpuRatio.toFixed(2)}x)${sizes}` +
          (appResult.failed || bareResult.failed ? `  <<< failed requests: app ${appResult.failed}, bare ${bareResult.failed} >>>` : ""),
      );
    }
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((error) => console.error("cleanup failed:", error));
  }
}

type Measured = { rps: number; p99: number; failed: number; cpuMsPerRequest: number };

/** autocannon in a child process: its work is then neither on this event loop nor in this process's CPU time. */
const CHILD = `import autocannon from "autocannon";
const result = await autocannon(JSON.parse(process.argv[1]));
process.stdout.write(JSON.stringify({ rps: result.requests.average, p99: result.latency.p99, total: result.requests.total,
  failed: result.errors + result.timeouts + result.non2xx }));`;

function runAutocannon(options: { url: string; headers: Record<string, string>; duration: number }): Promise<{ rps: number; p99: number; total: number; failed: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD, JSON.stringify({ ...options, connections: CONNECTIONS, timeout: 30 })], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`autocannon exited with ${code}`))));
  });
}

async function warmUp(url: string, headers: Record<string, string>): Promise<void> {
  await runAutocannon({ url, headers, duration: 1 });
}

/**
 * Requests per second and p99, and this process's CPU time per request: the two servers
 * run here, and CPU per request is far steadier than req/s on a shared machine.
 */
async function measure(url: string, headers: Record<string, string>, profiler: Profiler | null): Promise<Measured> {
  await profiler?.resume();
  const cpu = process.cpuUsage();
  const result = await runAutocannon({ url, headers, duration: SECONDS });
  const used = process.cpuUsage(cpu);
  await profiler?.pause();
  return { rps: result.rps, p99: result.p99, failed: result.failed, cpuMsPerRequest: (used.user + used.system) / 1000 / Math.max(1, result.total) };
}

/** The statements the app's ORM sends until `stop()`: one request's queries, counted (N+1 shows here). */
function queriesOf(db: BenchDatabase): { stop: () => string[] } {
  const knex = db.orm.em.getKnex();
  const seen: string[] = [];
  const listener = (query: { sql: string }) => seen.push(query.sql);
  knex.on("query", listener);
  return {
    stop: () => {
      knex.removeListener("query", listener);
      return seen;
    },
  };
}

type Profiler = { resume: () => Promise<void>; pause: () => Promise<void>; write: (name: string) => Promise<void> };

/**
 * The V8 profiler of this process, sampling only while the app's rounds run (the bare
 * server's rounds are left out by stopping it between them: one profile per answer).
 */
async function startProfiler(dir: string): Promise<Profiler> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  const parts: unknown[] = [];
  return {
    resume: async () => {
      await session.post("Profiler.start");
    },
    pause: async () => {
      parts.push((await session.post("Profiler.stop")).profile);
    },
    write: async (name) => {
      // The app's rounds as separate profiles; the longest is written (enough to read the hot spots).
      const profile = parts.sort((a, b) => JSON.stringify(b).length - JSON.stringify(a).length)[0];
      const file = path.join(dir, `${name.replace(/[^a-z0-9]+/gi, "-")}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      console.log(`  profile of the app's rounds: ${file}`);
      session.disconnect();
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const medianOf = (runs: Measured[]): Measured => ({
  rps: median(runs.map((r) => r.rps)),
  p99: median(runs.map((r) => r.p99)),
  failed: runs.reduce((sum, r) => sum + r.failed, 0),
  cpuMsPerRequest: median(runs.map((r) => r.cpuMsPerRequest)),
});

/**
 * Both servers must give the same answer before their speeds are compared: identical JSON
 * for hosts.list, and for pages a 200 naming the same things (the first hostname, the host,
 * the newest event).
 */
async function checkSameAnswer(target: Target, appUrl: string, appHeaders: Record<string, string>, bareUrl: string): Promise<string> {
  const [appRes, bareRes] = await Promise.all([fetch(appUrl, { headers: appHeaders, redirect: "manual" }), fetch(bareUrl)]);
  const [appBody, bareBody] = await Promise.all([appRes.text(), bareRes.text()]);
  if (appRes.status !== 200 || bareRes.status !== 200) {
    throw new Error(`${target.name}: app answered ${appRes.status}, bare ${bareRes.status}: ${appBody.slice(0, 300)} / ${bareBody.slice(0, 300)}`);
  }
  if (target.kind === "json") {
    if (!isDeepStrictEqual(JSON.parse(appBody), JSON.parse(bareBody))) throw new Error(`${target.name}: the app and the bare handler answer different JSON`);
    return `  (${kib(appBody.length)})`;
  }
  const marker = target.path === "/audit" ? /id="event-(\d+)"/ : target.path === "/hosts" ? /href="\/hosts\/(\d+)"/ : /<h1[^>]*>([^<]+)</;
  const appMark = marker.exec(appBody)?.[1];
  const bareMark = marker.exec(bareBody)?.[1];
  if (!appMark || appMark !== bareMark) throw new Error(`${target.name}: the pages differ (app ${appMark}, bare ${bareMark})`);
  return `  (HTML: app ${kib(appBody.length)}, bare ${kib(bareBody.length)})`;
}

/** An earlier benchmark of the same run may have loaded React first, without NODE_ENV=production. */
async function warnIfReactDevelopment(): Promise<void> {
  const react = (await import("react")) as unknown as Record<string, { ReactDebugCurrentFrame?: unknown } | undefined>;
  if (react.__SECRET_INTERNALS_DO_NOT_USE_OR_YOU_WILL_BE_FIRED?.ReactDebugCurrentFrame) {
    console.log("  <<< React's development build is loaded: page numbers are not production's; run with NODE_ENV=production >>>");
  }
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

/**
 * The app as it runs in production, in this process: info-level JSON logs (to a sink
 * that drops them, as stdout to a log collector would cost about the same for both).
 */
async function startApp(db: BenchDatabase): Promise<{ url: string; stop: () => Promise<void> }> {
  limitHeapHeadroom();
  const build = (await import(pathToFileURL(path.resolve("build/index.js")).href)) as ServerBuild;
  const config = testConfig();
  const runtime: Runtime = {
    config,
    log: createLogger("info", new Writable({ write: (_chunk, _enc, done) => done() })),
    orm: db.orm,
    startedAt: new Date(),
    version: "bench",
    draining: false,
  };
  const server: Server = createHttpApp(runtime, build).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  configureServerTimeouts(server);
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

/** The seeded admin signed in through auth.login: a Bearer token and the page cookie. */
async function signIn(url: string, seed: FleetSeed): Promise<{ token: string; cookie: string; sessionId: string }> {
  const login = await trpc<{ status: string; accessToken: string }>(url, "auth.login", {
    mutation: true,
    input: { email: seed.adminEmail, password: seed.password },
  });
  if (login.data?.status !== "ok") throw new Error(`auth.login failed: ${login.status} ${login.error?.message ?? ""}`);
  const token = login.data.accessToken;
  const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { sid?: string };
  if (!claims.sid) throw new Error("the access token names no session (claim sid)");
  return { token, cookie: `opsdesk_at=${token}`, sessionId: claims.sid };
}

async function stylesheetOf(url: string, cookie: string): Promise<string> {
  const html = await (await fetch(`${url}/hosts`, { headers: { cookie } })).text();
  // The app inlines its stylesheet in every document (ADR 024); the bare pages do too.
  const css = /<style id="opsdesk-styles"[^>]*>([\s\S]*?)<\/style>/.exec(html)?.[1];
  if (!css) throw new Error("the app's page inlines no stylesheet");
  return css;
}

/** A hosts.list cursor `offset` rows into the hostname order (what paging there would give). */
async function deepHostCursor(db: BenchDatabase, offset: number): Promise<string> {
  const [row] = await db.orm.em.fork().execute<{ hostname: string; id: number }[]>("select hostname, id from hosts order by hostname, id offset ? limit 1", [offset - 1]);
  if (!row) throw new Error("no host at that offset");
  return Buffer.from(JSON.stringify([row.hostname, row.id])).toString("base64url");
}
