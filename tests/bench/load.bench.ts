import { cpus, loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Cluster, startCluster } from "../support/cluster";
import { type RealPrometheus, realPrometheusMissing, startRealPrometheus } from "../support/real-prometheus";
import { watchInstance } from "./instance-metrics";
import { countersDuring, haproxyCounters, watchDatabase, watchProxy } from "./load-evidence";
import { concurrentLogins } from "./load-logins";
import { buildMix, checkMixOnce, type GroupResult, mixFromEnv, runAutocannon, runGroups } from "./load-mix";
import {
  failures,
  lastProblems,
  latencySummary,
  mib,
  passMiss,
  printHeader,
  printRow,
  reqPerSecond,
  unexpectedAnswers,
} from "./load-report";
import { seedFleet } from "./load-seed";
import { type CpuGroup, cpuMeter, memoryOf, resetPeakRss } from "./process-stats";
import { seconds } from "./support";

/**
 * Issue 15 item 4: OpsDesk under load, one instance and then two behind haproxy
 * (startCluster: real processes on the build, one PostgreSQL, round robin), with a real
 * Prometheus + node_exporter behind "Update metrics".
 *
 * Per topology, on a fresh cluster:
 *  1. a fleet of LOAD_HOSTS hosts (CSV import through the app), accounts, sessions, a token;
 *  2. the mix (load-mix.ts): 100 clients for LOAD_SECONDS (list pages, host pages, tRPC
 *     hosts.list, metrics.update) plus a small autocannon of sign-ins at a steady rate;
 *  3. /healthz latency while 50 people sign in at once (LOAD_LOGIN_SECONDS).
 * The one-instance run goes through the same proxy, so the 2-vs-1 ratio compares like
 * with like. Targets are printed as PASS/MISS; a miss never fails the run.
 *
 * Environment: LOAD_SECONDS (60), LOAD_LOGIN_SECONDS (20), LOAD_HOSTS (5000),
 * LOAD_INSTANCES ("1,2"), LOAD_MIX (see mixFromEnv), LOAD_CHECK_INTERVAL_MS (2000),
 * LOAD_INSTANCE_ENV ("K=V,…" for every instance), LOAD_CPU_PROFILE (a directory for V8
 * profiles of each phase), TEST_DATABASE_URL (a PostgreSQL server instead of embedded).
 */
const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const LOGIN_SECONDS = Number(process.env.LOAD_LOGIN_SECONDS ?? Math.min(20, SECONDS));
const HOSTS = Number(process.env.LOAD_HOSTS ?? 5_000);
const MIX = mixFromEnv(process.env.LOAD_MIX);
const TOPOLOGIES = (process.env.LOAD_INSTANCES ?? "1,2").split(",").map((n) => Number(n) as 1 | 2);
/** A directory: each instance writes a V8 CPU profile of each phase there (for slow spots; see cpu-profile-top.ts). */
const CPU_PROFILE_DIR = process.env.LOAD_CPU_PROFILE;
const PROFILE_PRELOAD = path.join(path.dirname(fileURLToPath(import.meta.url)), "cpu-profile-preload.cjs");
/** `LOAD_INSTANCE_ENV="UV_THREADPOOL_SIZE=2,LOG_LEVEL=error"`: extra environment for every instance, for experiments. */
const INSTANCE_ENV = Object.fromEntries(
  (process.env.LOAD_INSTANCE_ENV ?? "")
    .split(",")
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
);
const LOGIN_PEOPLE = 50;
const HEALTH_CHECK_INTERVAL_MS = Number(process.env.LOAD_CHECK_INTERVAL_MS ?? 2_000);
const SCALE_TARGET = 1.6;
const HEALTHZ_P99_TARGET_MS = 200;
const WIDTH = 34;

type TopologyOutcome = { instances: number; readReqPerSecond: number; instanceCores: number; failures: number; healthzP99: number; healthzOk: boolean };

export async function run(): Promise<void> {
  const missing = realPrometheusMissing();
  if (missing) {
    console.log(`load: skipped, a real Prometheus is needed: ${missing}`);
    return;
  }
  console.log(
    `load: ${HOSTS} hosts, 100 clients for ${SECONDS} s per topology, then /healthz during ${LOGIN_PEOPLE} concurrent sign-ins for ${LOGIN_SECONDS} s`,
  );
  console.log(`  mix: ${JSON.stringify(MIX)}${Object.keys(INSTANCE_ENV).length ? `; instance env ${JSON.stringify(INSTANCE_ENV)}` : ""}${CPU_PROFILE_DIR ? `; CPU profiles of the instances into ${CPU_PROFILE_DIR}` : ""}`);
  console.log(
    `  machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), load average ${loadText()}. CAVEAT: the load generator, haproxy,`,
  );
  console.log("  PostgreSQL, Prometheus and every instance share these cores (and other sessions may be using them): the figures");
  console.log("  are noisy, and a second instance can only add throughput when the first one was not already short of CPU.");
  const started = performance.now();
  const prometheus = await startRealPrometheus();
  const outcomes: TopologyOutcome[] = [];
  try {
    for (const instances of TOPOLOGIES) outcomes.push(await runTopology(instances, prometheus));
  } finally {
    await prometheus.stop();
  }
  printSummary(outcomes);
  console.log(`\ntotal ${seconds(performance.now() - started)}; load average after: ${loadText()}`);
}

async function runTopology(instances: 1 | 2, prometheus: RealPrometheus): Promise<TopologyOutcome> {
  console.log(`\n== ${instances} instance${instances > 1 ? "s" : ""} behind haproxy ==`);
  const setupStarted = performance.now();
  const cluster = await startCluster({
    instances,
    store: "fs",
    postgresUrl: process.env.TEST_DATABASE_URL,
    // haproxy's own default interval. Without "timeout check", haproxy's whole check must
    // finish within "inter": the tests' 200 ms (quick reaction to a killed instance) takes
    // a busy but healthy instance out whenever /readyz waits 200 ms for a pooled connection.
    checkIntervalMs: HEALTH_CHECK_INTERVAL_MS,
    env: {
      PROMETHEUS_URL: prometheus.url,
      LOG_LEVEL: "warn",
      ...INSTANCE_ENV,
      ...(CPU_PROFILE_DIR ? { NODE_OPTIONS: `--require ${PROFILE_PRELOAD}`, OPSDESK_CPU_PROFILE_DIR: CPU_PROFILE_DIR } : {}),
    },
  });
  try {
    const fleet = await seedFleet(cluster.url, cluster.databaseUrl, cluster.admin, {
      hosts: HOSTS,
      sessions: 20,
      loginAccounts: LOGIN_PEOPLE,
      prometheusInstance: prometheus.instance,
    });
    const groups = buildMix(cluster.url, fleet, SECONDS, MIX);
    await checkMixOnce(cluster.url, groups);
    console.log(
      `  seeded in ${seconds(performance.now() - setupStarted)}: ${fleet.hostIds.length} hosts, ${fleet.sessions.length} signed-in people, ${fleet.loginEmails.length} viewers; each request kind checked once`,
    );

    // --- the mix ---
    // Beside the mix, /readyz straight at each instance as haproxy's check sees it (a probe,
    // not client traffic: shown, not counted in the failures).
    const phase = await measured(cluster, () =>
      Promise.all([
        runGroups(groups),
        Promise.all(
          cluster.instances.map((i) =>
            runAutocannon({ url: `${i.url}/readyz`, connections: 1, overallRate: 5, duration: SECONDS, timeout: 10, excludeErrorStats: true }),
          ),
        ),
      ]),
    );
    const [results, readyz] = phase.value;
    console.log(`\n  mix, ${SECONDS} s (latency from autocannon, corrected for coordinated omission on the rate-limited groups)`);
    printHeader(WIDTH);
    for (const [i, group] of groups.entries()) printRow(group.name, WIDTH, results[i]!);
    for (const [i, instance] of cluster.instances.entries()) printRow(`(probe) GET /readyz instance ${instance.name}`, WIDTH, readyz[i]!);
    const read = results.filter((_, i) => groups[i]!.kind === "read");
    const readReqPerSecond = read.reduce((sum, r) => sum + reqPerSecond(r), 0);
    const total = results.reduce((sum, r) => sum + reqPerSecond(r), 0);
    console.log(`  ${"read mix (list + host + tRPC)".padEnd(WIDTH)} ${readReqPerSecond.toFixed(1).padStart(17)} req/s (2xx)`);
    console.log(`  ${"all groups".padEnd(WIDTH)} ${total.toFixed(1).padStart(17)} req/s (2xx)`);
    const failed = results.reduce((sum, r) => sum + failures(r), 0);
    printFailures(cluster, groups.map((g) => g.name), results, failed);
    phase.print();

    // --- /healthz while 50 people sign in ---
    const loginPhase = await measured(cluster, async () => {
      // Through the proxy (what a monitor sees) and straight at each instance (its own event loop).
      const healthzOptions = { duration: LOGIN_SECONDS, timeout: 10, excludeErrorStats: true };
      const [healthz, direct, logins] = await Promise.all([
        runAutocannon({ ...healthzOptions, url: `${cluster.url}/healthz`, connections: 2, overallRate: 40 }),
        Promise.all(cluster.instances.map((i) => runAutocannon({ ...healthzOptions, url: `${i.url}/healthz`, connections: 1, overallRate: 20 }))),
        concurrentLogins(cluster.url, fleet.loginEmails, LOGIN_PEOPLE, LOGIN_SECONDS),
      ]);
      return { healthz, direct, logins };
    });
    const { healthz, direct, logins } = loginPhase.value;
    console.log(`\n  /healthz during ${LOGIN_PEOPLE} concurrent sign-ins (each from its own address), ${LOGIN_SECONDS} s`);
    printHeader(WIDTH);
    printRow("GET /healthz via haproxy, 40/s", WIDTH, healthz);
    for (const [i, instance] of cluster.instances.entries()) printRow(`GET /healthz instance ${instance.name}, 20/s`, WIDTH, direct[i]!);
    const failedLogins = Object.values(logins.failed).reduce((a, b) => a + b, 0);
    console.log(
      `  ${"sign-ins auth.login".padEnd(WIDTH)} ${logins.ok} ok (${(logins.ok / logins.seconds).toFixed(1)}/s), ${latencySummary(logins.latencies)}`,
    );
    if (failedLogins > 0) console.log(`  !!! ${failedLogins} SIGN-INS FAILED: ${JSON.stringify(logins.failed)} !!!`);
    // A 503 from the proxy has no latency worth the name: p99 counts only when all answered.
    const healthzOk = failures(healthz) === 0 && healthz.latency.p99 < HEALTHZ_P99_TARGET_MS;
    console.log(
      `  healthz p99 via haproxy ${healthz.latency.p99.toFixed(0)} ms of ${healthz["2xx"]} answered, ${failures(healthz)} failed  ${passMiss(healthzOk, `< ${HEALTHZ_P99_TARGET_MS} ms, all answered`)}`,
    );
    for (const [i, instance] of cluster.instances.entries()) {
      const p99 = direct[i]!.latency.p99;
      const ok = failures(direct[i]!) === 0 && p99 < HEALTHZ_P99_TARGET_MS;
      console.log(`  healthz p99 straight at instance ${instance.name} ${p99.toFixed(0)} ms (its event loop alone)  ${passMiss(ok, `< ${HEALTHZ_P99_TARGET_MS} ms`)}`);
    }
    const healthzResults = [healthz, ...direct];
    const healthzFailed = healthzResults.reduce((sum, r) => sum + failures(r), 0);
    printFailures(cluster, ["GET /healthz via haproxy", ...cluster.instances.map((i) => `GET /healthz instance ${i.name}`)], healthzResults, healthzFailed);
    loginPhase.print();

    return { instances, readReqPerSecond, instanceCores: phase.instanceCores, failures: failed + healthzFailed + failedLogins, healthzP99: healthz.latency.p99, healthzOk };
  } finally {
    await cluster.stop();
  }
}

/**
 * Runs a phase while watching it: each instance's peak RSS (VmHWM reset at the start
 * where the kernel allows), its own request count and database pool, and the cores each
 * part used.
 */
async function measured<T>(cluster: Cluster, phase: () => Promise<T>): Promise<{ value: T; instanceCores: number; print: () => void }> {
  const peakReset = cluster.instances.map((i) => resetPeakRss(i.pid)).every(Boolean);
  const watches = await Promise.all(cluster.instances.map((i) => watchInstance(i.url)));
  const cpuGroups: CpuGroup[] = [
    ...cluster.instances.map((i) => ({ name: `instance ${i.name}`, match: (p: { pid: number }) => p.pid === i.pid })),
    { name: "haproxy", match: (p) => p.comm === "haproxy" },
    { name: "postgresql", match: (p) => p.comm.startsWith("postgres") },
    { name: "prometheus + node_exporter", match: (p) => p.comm.startsWith("prometheus") },
  ];
  // startCluster keeps haproxy's stats socket in its temporary root, beside the artifacts.
  const socket = cluster.artifactDir ? path.join(path.dirname(cluster.artifactDir), "haproxy.sock") : null;
  const countersBefore = socket ? await haproxyCounters(socket) : null;
  const database = await watchDatabase(cluster.databaseUrl);
  const proxy = watchProxy(cluster.serverStates);
  const toggleProfiler = () => {
    if (CPU_PROFILE_DIR) for (const instance of cluster.instances) instance.child.kill("SIGUSR2");
  };
  toggleProfiler();
  const cpu = cpuMeter(cpuGroups);
  const value = await phase();
  const used = cpu.stop();
  toggleProfiler();
  const proxyStates = proxy.stop();
  const activity = await database.stop();
  const countersAfter = socket ? await haproxyCounters(socket) : null;
  const proxyCounters = countersBefore && countersAfter ? countersDuring(countersBefore, countersAfter) : null;
  const watched = await Promise.all(watches.map((w) => w.stop()));
  const memory = cluster.instances.map((i) => memoryOf(i.pid));
  const instanceCores = Object.entries(used.cores)
    .filter(([name]) => name.startsWith("instance "))
    .reduce((sum, [, cores]) => sum + cores, 0);
  return {
    value,
    instanceCores,
    print: () => {
      cluster.instances.forEach((instance, i) => {
        const m = memory[i];
        const w = watched[i]!;
        console.log(
          `  instance ${instance.name} (pid ${instance.pid}): RSS ${mib(m?.rss ?? Number.NaN)} now, peak ${mib(m?.hwm ?? Number.NaN)}${peakReset ? " in this phase" : " since start (VmHWM reset refused)"}; served ${w.served} requests (${w.served5xx} of them 5xx); DB pool max used ${w.maxPoolUsed}/10, max waiting ${w.maxPoolPending}; event-loop lag p99 max ${w.maxLoopLagP99Ms.toFixed(0)} ms`,
        );
      });
      const down = Object.entries(proxyStates.notUp).map(([server, states]) => `${server} ${JSON.stringify(states)}`);
      console.log(
        `  haproxy (GET /readyz every ${HEALTH_CHECK_INTERVAL_MS} ms, as its timeout too; 1 s DB ping timeout in the app): ${down.length ? `not UP in some samples: ${down.join(", ")}` : "every instance UP"} (${proxyStates.samples} samples)`,
      );
      for (const [server, c] of Object.entries(proxyCounters ?? {})) {
        console.log(
          `  haproxy -> ${server}: ${c.stot} requests, ${c.wretr} retried, ${c.wredis} redispatched, ${c.econ} connect errors, ${c.eresp} response errors, ${c.hrsp_5xx} 5xx, ${c.chkfail} failed checks, queue max ${c.qmax}; avg of last 1024: connect ${c.ctime} ms, response ${c.rtime} ms, total ${c.ttime} ms`,
        );
      }
      if (!proxyCounters) console.log("  haproxy counters: stats socket not found (startCluster moved it?)");
      console.log(
        `  PostgreSQL (pg_stat_activity, ${activity.samples} samples): max ${activity.maxConnections} app connections, ${activity.maxActive} active, ${activity.maxIdleInTransaction} idle in transaction`,
      );
      for (const [what, count] of activity.top.slice(0, 4)) console.log(`    ${String(count).padStart(5)}x  ${what}`);
      const cores = Object.entries(used.cores)
        .sort(([, a], [, b]) => b - a)
        .map(([name, c]) => `${name} ${c.toFixed(2)}`)
        .join(", ");
      console.log(`  cores used: ${cores}`);
      console.log(`  whole machine busy: ${used.machineBusy.toFixed(2)} of ${used.machineCores} cores (other sessions included)`);
    },
  };
}

function printFailures(cluster: Cluster, names: string[], results: GroupResult[], failed: number): void {
  if (failed === 0) {
    console.log(`  failed requests: 0  ${passMiss(true, "0 errors")}`);
    return;
  }
  console.log(`  !!! ${failed} REQUESTS FAILED  ${passMiss(false, "0 errors")} !!!`);
  results.forEach((r, i) => {
    const what = unexpectedAnswers(r);
    if (what) console.log(`    ${names[i]}: ${what}`);
  });
  for (const instance of cluster.instances) {
    const problems = lastProblems(instance.output());
    if (problems.length) console.log(`    instance ${instance.name} last warnings/errors:\n      ${problems.join("\n      ")}`);
  }
}

function printSummary(outcomes: TopologyOutcome[]): void {
  console.log("\n== summary ==");
  for (const o of outcomes) {
    console.log(
      `  ${o.instances} instance(s): read mix ${o.readReqPerSecond.toFixed(1)} req/s (2xx); failed requests ${o.failures} ${passMiss(o.failures === 0, "0")}; healthz p99 ${o.healthzP99.toFixed(0)} ms ${passMiss(o.healthzOk, `< ${HEALTHZ_P99_TARGET_MS} ms, all answered`)}`,
    );
  }
  const one = outcomes.find((o) => o.instances === 1);
  const two = outcomes.find((o) => o.instances === 2);
  if (one && two) {
    const ratio = two.readReqPerSecond / one.readReqPerSecond;
    if (one.failures > 0 || two.failures > 0) {
      console.log("  NOTE: a run below had failed requests; its 2xx/s is lower for it, so this ratio is not like for like.");
    }
    console.log(`  2 vs 1 instance, read mix: ${ratio.toFixed(2)}x  ${passMiss(ratio >= SCALE_TARGET, `>= ${SCALE_TARGET}x`)}`);
    // The scheduler shares a busy machine per process: two instances get more of it than one
    // while other work competes, so the ratio alone can overstate (or hide) what a second
    // instance adds. Per core used by the instances, the two runs compare like for like.
    const perCore = (o: TopologyOutcome) => o.readReqPerSecond / o.instanceCores;
    console.log(
      `  CPU the instances got during the mix: ${one.instanceCores.toFixed(2)} cores (1 instance) vs ${two.instanceCores.toFixed(2)} (2 instances), of ${cpus().length};` +
        ` read mix per instance core: ${perCore(one).toFixed(0)} vs ${perCore(two).toFixed(0)} req/s`,
    );
    console.log(`  (${cpus().length} cores for everything, the load generator, haproxy and PostgreSQL included: see "cores used" above.)`);
  }
}

const loadText = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" / ");
