import { request as httpRequest } from "node:http";
import pg from "pg";
import type { Role } from "../../server/auth/roles";
import { parseHostsCsv } from "../../server/domain/csv/hosts-csv";
import { type ImportResult, importHosts } from "../../server/services/hosts/host-import";
import { updateSettings } from "../../server/services/settings.service";
import { createUser } from "../../server/services/users.service";
import { trpc } from "../support/app-server";
import { benchCsv, benchCsvChunks } from "./hosts-csv-rows";
import { collectGarbage, copyFromStdin, mb, perSecond, sampleRss, seconds, startBenchApp, startBenchDatabase } from "./support";

/**
 * CSV host import, measured against PostgreSQL's own COPY in the same run:
 *  (a) dry run of 100k rows through POST /api/trpc/hosts.importCsv,
 *  (b) apply of the same rows into an empty hosts table, as tRPC JSON and as a CSV body,
 *  (c) COPY of the same rows into a scratch table shaped like hosts (same indexes),
 *      (b) and (c) in rounds (BENCH_HOSTS_ROUNDS, default 3), judged on the median,
 *  (d) memory at 1M rows: the CSV reader alone on a stream, then a dry run through the
 *      service and through the HTTP endpoint.
 * Targets are printed next to the figures; a missed one is reported, never thrown.
 * `BENCH_HOSTS_ROWS` / `BENCH_HOSTS_BIG_ROWS` / `BENCH_HOSTS_ROUNDS` shrink the run while working on it.
 */
const ROWS = Number(process.env.BENCH_HOSTS_ROWS ?? 100_000);
const BIG_ROWS = Number(process.env.BENCH_HOSTS_BIG_ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_HOSTS_ROUNDS ?? 3);
const APPLY_VS_COPY_TARGET = 0.5;
const RSS_GROWTH_TARGET = 150 * 1024 * 1024;

const noRequest = { ip: null, userAgent: null, requestId: null };
const BENCH_ACTOR = { id: null, email: "bench" };

type ImportResponse = Omit<ImportResult, "preview">;

/** POSTs a generated body with backpressure and collects the answer. */
function postStream(url: string, token: string, chunks: AsyncIterable<Buffer>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = httpRequest(
      // A connection of its own (agent: false): a kept-alive one from an earlier upload may
      // have been closed by the server while this process was busy, and reusing it fails.
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: "POST",
        agent: false,
        headers: { authorization: `Bearer ${token}`, "content-type": "text/csv" },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", () => resolve({ status: res.statusCode ?? 0, body }));
        answered = { status: res.statusCode ?? 0, body };
      },
    );
    // A server that refuses a body (413, 401) answers early and then closes the
    // connection while the body is still being sent: report its answer, not the reset.
    let answered: { status: number; body: string } | null = null;
    req.on("error", (error) => (answered ? setTimeout(() => resolve(answered!), 100) : reject(error)));
    void (async () => {
      for await (const chunk of chunks) {
        if (!req.write(chunk)) await new Promise((r) => req.once("drain", r));
      }
      req.end();
    })().catch(reject);
  });
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

/** A file already in memory, sent in 64 KiB pieces. */
async function* bufferChunks(file: Buffer): AsyncGenerator<Buffer> {
  for (let start = 0; start < file.length; start += 64 * 1024) yield file.subarray(start, start + 64 * 1024);
}

async function* streamCsv(rows: number): AsyncGenerator<Buffer> {
  yield* benchCsvChunks(rows);
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

    const importOverHttp = async (dryRun: boolean) => {
      const started = performance.now();
      const res = await trpc<ImportResponse>(app!.url, "hosts.importCsv", {
        mutation: true,
        token,
        input: { csv: csvText, dryRun, fileName: "bench-hosts.csv" },
      });
      const ms = performance.now() - started;
      if (res.status !== 200 || !res.data) throw new Error(`hosts.importCsv failed: ${res.status} ${res.error?.message ?? ""}`);
      if (res.data.errorCount > 0) throw new Error(`hosts.importCsv found ${res.data.errorCount} errors, first: ${JSON.stringify(res.data.errors[0])}`);
      return { ms, result: res.data };
    };

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
      const apply = await importOverHttp(false);
      await expectHosts(sql, ROWS, apply.result.applied, "apply");

      // (b2) the same apply through the streaming endpoint (POST /hosts/import.csv, the
      // CSV as the request body, as the CLI sends it)
      await sql.query("truncate hosts cascade");
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

    console.log(`\n${ROWS.toLocaleString("en-US")} rows`);
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

    // (d) memory at 1M rows. The file is built before the baseline: it is the input, not
    // the import's own memory. The same rows 0…N-1 are used, so the 100k already applied
    // come out "unchanged" and the rest "create".
    console.log(`\n${BIG_ROWS.toLocaleString("en-US")} rows, dry run (memory)`);

    // (d0) The CSV reader alone on a streaming source (rows generated as they are read, no
    // database): the part of the import that is meant to stay flat. It keeps one entry
    // per hostname for duplicate detection, which is most of what grows here.
    collectGarbage();
    const parseBase = process.memoryUsage.rss();
    const parseRss = sampleRss();
    const parseStarted = performance.now();
    let parsedRows = 0;
    for await (const item of parseHostsCsv(streamCsv(BIG_ROWS), { maxRows: BIG_ROWS, maxBytes: 1024 * 1024 * 1024 })) {
      if (item.kind === "error") throw new Error(`line ${item.line}: ${item.message}`);
      parsedRows++;
    }
    const parseMs = performance.now() - parseStarted;
    const parseGrowth = parseRss.stop() - parseBase;
    if (parsedRows !== BIG_ROWS) throw new Error(`parseHostsCsv read ${parsedRows} rows, expected ${BIG_ROWS}`);
    line("(d0) parseHostsCsv(stream), no DB", `${seconds(parseMs).padStart(8)}  ${perSecond(BIG_ROWS, parseMs)} (generating included)`);
    line("     RSS growth over baseline", `+${mb(parseGrowth)} (baseline ${mb(parseBase)})  (reader only, for comparison)`);

    // (d3) The streaming endpoint: POST /hosts/import.csv with the CSV as the request body,
    // written chunk by chunk with backpressure (node:http; Node's fetch would buffer a
    // streamed body ahead of the network and inflate this process's RSS).
    collectGarbage();
    const streamBase = process.memoryUsage.rss();
    const streamRss = sampleRss();
    const streamStarted = performance.now();
    const streamed = await postStream(`${app.url}/hosts/import.csv?dryRun=true&fileName=bench-hosts-1m.csv`, token, streamCsv(BIG_ROWS));
    const streamMs = performance.now() - streamStarted;
    const streamPeak = streamRss.stop();
    const streamGrowth = streamPeak - streamBase;
    if (streamed.status !== 200) {
      line("(d3) HTTP POST /hosts/import.csv", `failed: ${streamed.status} ${streamed.body.slice(0, 200)}`);
    } else {
      const result = JSON.parse(streamed.body) as ImportResponse;
      line(
        "(d3) HTTP POST /hosts/import.csv (stream)",
        `${seconds(streamMs).padStart(8)}  ${perSecond(BIG_ROWS, streamMs)}  (${result.totalRows.toLocaleString("en-US")} rows, ${result.errorCount} errors)`,
      );
      line("     RSS growth over baseline", `+${mb(streamGrowth)} (baseline ${mb(streamBase)}, peak ${mb(streamPeak)})  ${verdict(streamGrowth < RSS_GROWTH_TARGET, "< 150 MB")}`);
    }

    let big: Buffer | null = benchCsv(BIG_ROWS);
    const bigSize = big.length;
    line("file size", mb(bigSize));

    // (d1) The service, called directly with the file in memory. importHosts takes the
    // whole file as a Buffer (ImportInput.content), so no streaming source can be given
    // to it; parseHostsCsv streams inside it.
    collectGarbage();
    const serviceBase = process.memoryUsage.rss();
    const serviceRss = sampleRss();
    const serviceStarted = performance.now();
    const viaService = await importHosts(
      db.orm.em.fork(),
      config,
      { id: user.id, email },
      { content: big, fileName: "bench-hosts-1m.csv", dryRun: true },
      noRequest,
    );
    const serviceMs = performance.now() - serviceStarted;
    const servicePeak = serviceRss.stop();
    if (viaService.errorCount > 0 || viaService.totalRows !== BIG_ROWS) {
      throw new Error(`1M dry run: ${viaService.totalRows} rows, ${viaService.errorCount} errors`);
    }
    const serviceGrowth = servicePeak - serviceBase;
    line("(d1) service importHosts(Buffer)", `${seconds(serviceMs).padStart(8)}  ${perSecond(BIG_ROWS, serviceMs)}  (${viaService.created.toLocaleString("en-US")} create, ${viaService.unchanged.toLocaleString("en-US")} unchanged)`);
    line("     RSS growth over baseline", `+${mb(serviceGrowth)} (baseline ${mb(serviceBase)}, peak ${mb(servicePeak)})  ${verdict(serviceGrowth < RSS_GROWTH_TARGET, "< 150 MB")}`);

    // (d2) The same through the HTTP endpoint. The request body (JSON) is encoded before
    // the baseline, so the growth is the server's side: reading the body, JSON.parse, the
    // Buffer handed to the service, and the import itself.
    let body: Buffer | null = Buffer.from(JSON.stringify({ csv: big.toString("utf8"), dryRun: true, fileName: "bench-hosts-1m.csv" }), "utf8");
    big = null;
    collectGarbage();
    const httpBase = process.memoryUsage.rss();
    const httpRss = sampleRss();
    const httpStarted = performance.now();
    const res = await fetch(`${app.url}/api/trpc/hosts.importCsv`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      // Buffer.from(string) owns a plain ArrayBuffer, which is what fetch's BodyInit wants.
      body: body as Uint8Array<ArrayBuffer>,
    });
    const envelope = (await res.json()) as { result?: { data: ImportResponse }; error?: { message: string } };
    const httpMs = performance.now() - httpStarted;
    const httpPeak = httpRss.stop();
    body = null;
    if (res.status !== 200 || !envelope.result) {
      line("(d2) HTTP hosts.importCsv", `failed: ${res.status} ${envelope.error?.message ?? ""}`);
    } else {
      const httpGrowth = httpPeak - httpBase;
      line("(d2) HTTP hosts.importCsv (JSON)", `${seconds(httpMs).padStart(8)}  ${perSecond(BIG_ROWS, httpMs)}`);
      line("     RSS growth over baseline", `+${mb(httpGrowth)} (baseline ${mb(httpBase)}, peak ${mb(httpPeak)})  ${verdict(httpGrowth < RSS_GROWTH_TARGET, "< 150 MB")}`);
    }
    console.log(`\ntotal ${seconds(performance.now() - runStarted)}`);
  } finally {
    await sql.end().catch(() => {});
    await app?.stop();
    await db.close();
  }
}
