import pg from "pg";
import type { Role } from "../../server/auth/roles";
import type { ImportResult } from "../../server/services/hosts/host-import";
import { updateSettings } from "../../server/services/settings.service";
import { createUser } from "../../server/services/users.service";
import { trpc } from "../support/app-server";
import { bufferChunks, postStream } from "./bench-http";
import { MEMORY_CASES, type MemoryCase, measureInFreshProcess } from "./hosts-import-memory";
import { benchCsv } from "./hosts-csv-rows";
import { collectGarbage, copyFromStdin, mb, perSecond, sampleRss, seconds, startBenchApp, startBenchDatabase } from "./support";

/**
 * CSV host import, measured against PostgreSQL's own COPY in the same run:
 *  (0) warm-up: an untimed 20k-row apply through each path below, then emptied,
 *  (a) dry run of 100k rows through POST /api/trpc/hosts.importCsv,
 *  (b) apply of the same rows into an empty hosts table, as tRPC JSON and as a CSV body,
 *  (c) COPY of the same rows into a scratch table shaped like hosts (same indexes),
 *      (b) and (c) in rounds (BENCH_HOSTS_ROUNDS, default 5), judged on the median, each
 *      step starting from a CHECKPOINT,
 *  (d) memory at 1M rows, each case in a fresh process: the CSV reader alone on a
 *      stream, then a dry run through the CSV body endpoint, the service and tRPC.
 * Targets are printed next to the figures; a missed one is reported, never thrown.
 * `BENCH_HOSTS_ROWS` / `BENCH_HOSTS_BIG_ROWS` / `BENCH_HOSTS_ROUNDS` shrink the run while working on it.
 */
const ROWS = Number(process.env.BENCH_HOSTS_ROWS ?? 100_000);
const BIG_ROWS = Number(process.env.BENCH_HOSTS_BIG_ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_HOSTS_ROUNDS ?? 5);
const WARM_UP_ROWS = 20_000;
const APPLY_VS_COPY_TARGET = 0.5;
const RSS_GROWTH_TARGET = 150 * 1024 * 1024;

const noRequest = { ip: null, userAgent: null, requestId: null };
const BENCH_ACTOR = { id: null, email: "bench" };

type ImportResponse = Omit<ImportResult, "preview">;

/**
 * The memory target is for reading a file as a stream, which the CSV body endpoint and
 * the service do. A tRPC call carries the file inside one JSON string: the server holds
 * the body's bytes, its text and the parsed string (about four times the file at peak)
 * before the import reads a byte, so its figure is shown for comparison (large files go
 * through POST /hosts/import.csv, as the CLI sends them).
 */
function memoryVerdict(name: MemoryCase, growth: number): string {
  if (name === "parser") return "(reader only, for comparison)";
  if (name === "trpc-json") return "(for comparison: a JSON body is read whole, ~4x the file)";
  return growth < RSS_GROWTH_TARGET ? "(target < 150 MB: met)" : "<<< TARGET MISSED (target < 150 MB) >>>";
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function expectHosts(sql: pg.Client, expected: number, applied: boolean, what: string): Promise<void> {
  const [{ count }] = (await sql.query<{ count: string }>("select count(*) from hosts")).rows as [{ count: string }];
  if (Number(count) !== expected || !applied) throw new Error(`${what} wrote ${count} hosts, expected ${expected}`);
}

export async function run(): Promise<void> {
  const runStarted = performance.now();
  const line = (label: string, value: string) => console.log(`  ${label.padEnd(34)} ${value}`);
  const verdict = (ok: boolean, target: string) => (ok ? `(target ${target}: met)` : `<<< TARGET MISSED (target ${target}) >>>`);

  const db = await startBenchDatabase();
  let app: Awaited<ReturnType<typeof startBenchApp>> | undefined;
  const sql = new pg.Client({ connectionString: db.url });
  try {
    app = await startBenchApp(db);
    await sql.connect();
    const config = app.runtime.config;

    // An operator (import is an operator capability), signed in over HTTP like a script.
    const role: Role = "operator";
    const email = "bench-operator@bench.example";
    const password = "bench-password-bench-password";
    const { user } = await createUser(db.orm.em.fork(), config, BENCH_ACTOR, { email, role, password }, noRequest);
    const login = await trpc<{ status: string; accessToken: string }>(app.url, "auth.login", {
      mutation: true,
      input: { email, password },
    });
    if (login.data?.status !== "ok") throw new Error(`auth.login failed: ${login.status} ${login.error?.message ?? ""}`);
    const token = login.data.accessToken;

    // Limits high enough for the 1M-row file (about 160 MB; 1 GiB is the setting's maximum).
    await updateSettings(
      db.orm.em.fork(),
      config,
      { "import.maxBytes": 1024 * 1024 * 1024, "import.maxRows": Math.max(BIG_ROWS, ROWS) },
      BENCH_ACTOR,
      null,
    );

    const csv = benchCsv(ROWS);
    const copyCsv = benchCsv(ROWS, "pg-array");
    const csvText = csv.toString("utf8");
    console.log(`hosts CSV import: ${ROWS.toLocaleString("en-US")} rows, ${mb(csv.length)}; PostgreSQL at ${process.env.TEST_DATABASE_URL ? "TEST_DATABASE_URL" : "embedded (temp dir)"}`);

    // The JSON body is built before the clock starts, as the baseline's COPY data is: what
    // is timed is the server's import, not this script serialising 16 MB (a script sending
    // a file would have done that while reading it).
    const importOverHttp = async (dryRun: boolean) => {
      const body = Buffer.from(JSON.stringify({ csv: csvText, dryRun, fileName: "bench-hosts.csv" }));
      const started = performance.now();
      const res = await postStream(`${app!.url}/api/trpc/hosts.importCsv`, token, bufferChunks(body), "application/json", body.length);
      const ms = performance.now() - started;
      const envelope = JSON.parse(res.body) as { result?: { data: ImportResponse }; error?: { message: string } };
      const result = envelope.result?.data;
      if (res.status !== 200 || !result) throw new Error(`hosts.importCsv failed: ${res.status} ${envelope.error?.message ?? ""}`);
      if (result.errorCount > 0) throw new Error(`hosts.importCsv found ${result.errorCount} errors, first: ${JSON.stringify(result.errors[0])}`);
      return { ms, result };
    };

    // Each timed step starts from a checkpoint, as pgbench advises: otherwise a checkpoint
    // (one per ~1 GB of WAL) lands in whichever step happens to be running, and its page
    // writes count against that step alone.
    let checkpointRefused = false;
    const checkpoint = async () => {
      if (checkpointRefused) return;
      await sql.query("checkpoint").catch((error: unknown) => {
        checkpointRefused = true;
        console.log(`  (CHECKPOINT refused, steps not aligned on checkpoints: ${error instanceof Error ? error.message : String(error)})`);
      });
    };

    // Warm-up, untimed: one small apply through each path, then emptied, so the rounds
    // measure a server that has run its import code before (as the memory cases do), not
    // V8 compiling it during round 1. The tRPC path runs the bundle's copy of the services,
    // the CSV body route this process's own.
    const warmUp = benchCsv(WARM_UP_ROWS);
    const warmUpBody = Buffer.from(JSON.stringify({ csv: warmUp.toString("utf8"), dryRun: false, fileName: "bench-warm-up.csv" }));
    for (const warmUpApply of [
      () => postStream(`${app!.url}/api/trpc/hosts.importCsv`, token, bufferChunks(warmUpBody), "application/json", warmUpBody.length),
      () => postStream(`${app!.url}/hosts/import.csv?dryRun=false&fileName=bench-warm-up.csv`, token, bufferChunks(warmUp)),
    ]) {
      const res = await warmUpApply();
      if (res.status !== 200) throw new Error(`warm-up apply failed: ${res.status} ${res.body.slice(0, 200)}`);
      await sql.query("truncate hosts cascade");
    }

    collectGarbage();
    const rssBefore = process.memoryUsage.rss();
    const rss100k = sampleRss();

    // (a) dry run
    const dry = await importOverHttp(true);

    // (b) apply and (c) COPY, in rounds: this machine's speed drifts by a quarter from one
    // minute to the next, so each round's apply is compared with the COPY measured right
    // after it, and the verdict is on the median round.
    const rounds: { applyMs: number; streamedApplyMs: number; copyMs: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // (b) apply into an emptied hosts table, as tRPC JSON
      await sql.query("truncate hosts cascade");
      await checkpoint();
      const apply = await importOverHttp(false);
      await expectHosts(sql, ROWS, apply.result.applied, "apply");

      // (b2) the same apply through the streaming endpoint (POST /hosts/import.csv, the
      // CSV as the request body, as the CLI sends it)
      await sql.query("truncate hosts cascade");
      await checkpoint();
      const streamedApplyStarted = performance.now();
      const streamedApply = await postStream(`${app.url}/hosts/import.csv?dryRun=false&fileName=bench-hosts.csv`, token, bufferChunks(csv));
      const streamedApplyMs = performance.now() - streamedApplyStarted;
      if (streamedApply.status !== 200) throw new Error(`POST /hosts/import.csv failed: ${streamedApply.status} ${streamedApply.body.slice(0, 200)}`);
      await expectHosts(sql, ROWS, (JSON.parse(streamedApply.body) as ImportResponse).applied, "streamed apply");

      // (c) COPY baseline into a scratch table of the same shape: same columns, defaults,
      // checks and indexes as hosts, with its own id sequence.
      await sql.query("drop table if exists bench_hosts_copy; drop sequence if exists bench_hosts_copy_id_seq");
      await sql.query("create table bench_hosts_copy (like hosts including defaults including constraints including indexes)");
      await sql.query("create sequence bench_hosts_copy_id_seq owned by bench_hosts_copy.id");
      await sql.query("alter table bench_hosts_copy alter column id set default nextval('bench_hosts_copy_id_seq')");
      await checkpoint();
      const copyStarted = performance.now();
      const copied = await copyFromStdin(
        sql,
        "copy bench_hosts_copy (hostname, ip, port, ssh_user, bastion, environment, os, tags, notes) from stdin with (format csv, header true)",
        copyCsv,
      );
      const copyMs = performance.now() - copyStarted;
      if (copied !== ROWS) throw new Error(`COPY loaded ${copied} rows, expected ${ROWS}`);
      await sql.query("drop table bench_hosts_copy");
      rounds.push({ applyMs: apply.ms, streamedApplyMs, copyMs });
    }
    const peak100k = rss100k.stop();

    console.log(`\n${ROWS.toLocaleString("en-US")} rows (after an untimed ${WARM_UP_ROWS.toLocaleString("en-US")}-row apply through each path)`);
    line("(a) dry run  (HTTP, tRPC JSON)", `${seconds(dry.ms).padStart(8)}  ${perSecond(ROWS, dry.ms)}`);
    for (const [i, r] of rounds.entries()) {
      console.log(`  round ${i + 1}`);
      line("  (b) apply   (HTTP, tRPC JSON)", `${seconds(r.applyMs).padStart(8)}  ${perSecond(ROWS, r.applyMs)}  ${(r.copyMs / r.applyMs).toFixed(3)}x COPY`);
      line("  (b2) apply  (HTTP, CSV body)", `${seconds(r.streamedApplyMs).padStart(8)}  ${perSecond(ROWS, r.streamedApplyMs)}  ${(r.copyMs / r.streamedApplyMs).toFixed(3)}x COPY`);
      line("  (c) COPY FROM STDIN (baseline)", `${seconds(r.copyMs).padStart(8)}  ${perSecond(ROWS, r.copyMs)}`);
    }
    const applyRatio = median(rounds.map((r) => r.copyMs / r.applyMs));
    const streamedApplyRatio = median(rounds.map((r) => r.copyMs / r.streamedApplyMs));
    const dryRatio = median(rounds.map((r) => r.copyMs)) / dry.ms;
    const rangeOf = (ratios: number[]) => `${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}`;
    line(
      `apply / COPY  (tRPC JSON, median of ${ROUNDS})`,
      `${applyRatio.toFixed(3)}x  (rounds ${rangeOf(rounds.map((r) => r.copyMs / r.applyMs))})  ${verdict(applyRatio >= APPLY_VS_COPY_TARGET, `>= ${APPLY_VS_COPY_TARGET}x`)}`,
    );
    line(
      `apply / COPY  (CSV body, median of ${ROUNDS})`,
      `${streamedApplyRatio.toFixed(3)}x  (rounds ${rangeOf(rounds.map((r) => r.copyMs / r.streamedApplyMs))})  ${verdict(streamedApplyRatio >= APPLY_VS_COPY_TARGET, `>= ${APPLY_VS_COPY_TARGET}x`)}`,
    );
    line("dry run / COPY", `${dryRatio.toFixed(3)}x`);
    line("peak RSS during (a)-(c)", `${mb(peak100k)} (${mb(rssBefore)} before, +${mb(peak100k - rssBefore)})`);

    // (d) memory at 1M rows, each case in a fresh process (hosts-import-memory.ts). The
    // same rows 0…N-1 as above, so the 100k already applied come out "unchanged".
    console.log(`\n${BIG_ROWS.toLocaleString("en-US")} rows, dry run (memory; each in a fresh process, input built before the baseline)`);
    const context = { dbUrl: db.url, token, userId: user.id, email, rows: BIG_ROWS };
    for (const name of Object.keys(MEMORY_CASES) as MemoryCase[]) {
      const result = await measureInFreshProcess(name, context);
      if (result.rows !== BIG_ROWS || result.errors > 0) throw new Error(`${MEMORY_CASES[name]}: ${result.rows} rows, ${result.errors} errors`);
      const growth = result.peak - result.baseline;
      const counts = name === "parser" ? "" : `  (${result.created.toLocaleString("en-US")} create, ${result.unchanged.toLocaleString("en-US")} unchanged)`;
      line(MEMORY_CASES[name], `${seconds(result.ms).padStart(8)}  ${perSecond(BIG_ROWS, result.ms)}${counts}`);
      line("     RSS growth over baseline", `+${mb(growth)} (baseline ${mb(result.baseline)}, peak ${mb(result.peak)})  ${memoryVerdict(name, growth)}`);
    }
    console.log(`\ntotal ${seconds(performance.now() - runStarted)}`);
  } finally {
    await sql.end().catch(() => {});
    await app?.stop();
    await db.close();
  }
}
