import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openOrm } from "../../db/orm";
import { parseHostsCsv } from "../../server/domain/csv/hosts-csv";
import { limitHeapHeadroom } from "../../server/heap-headroom";
import { type ImportResult, importHosts } from "../../server/services/hosts/host-import";
import { startAppServer } from "../support/app-server";
import { testConfig } from "../support/config";
import { postStream } from "./bench-http";
import { benchCsvChunks, benchCsvInOneAllocation } from "./hosts-csv-rows";
import { collectGarbage, sampleRss } from "./support";

/**
 * Memory of a 1M-row dry run, each way of reading the file measured in a process of its
 * own: in one long-lived process the allocator keeps pages freed by an earlier step, and
 * the next step's growth then over- or under-states what it needs by tens of MB. The
 * child opens the bench database, starts the real app where the case needs HTTP, warms
 * up, builds its input where the case holds it whole (the input is the file, not the
 * import's memory), collects garbage, and reports peak RSS over that baseline.
 */
export const MEMORY_CASES = {
  parser: "parseHostsCsv(stream), no DB",
  "http-stream": "HTTP POST /hosts/import.csv (stream)",
  "service-buffer": "service importHosts(Buffer)",
  "trpc-json": "HTTP hosts.importCsv (JSON)",
} as const;
export type MemoryCase = keyof typeof MEMORY_CASES;

export type MemoryResult = { ms: number; baseline: number; peak: number; rows: number; errors: number; created: number; unchanged: number };

export type MemoryContext = { dbUrl: string; token: string; userId: number; email: string; rows: number };

export function measureInFreshProcess(name: MemoryCase, context: MemoryContext): Promise<MemoryResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), CHILD_FLAG, name], {
      env: { ...process.env, BENCH_MEMORY_CONTEXT: JSON.stringify(context) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      output += chunk;
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      const line = output.split("\n").find((l) => l.startsWith(RESULT_PREFIX));
      if (code !== 0 || !line) reject(new Error(`memory case ${name} exited with ${code}: ${output.slice(-500)}`));
      else resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as MemoryResult);
    });
  });
}

const CHILD_FLAG = "--memory-case";
const RESULT_PREFIX = "MEMORY_RESULT ";

type ImportResponse = Omit<ImportResult, "preview">;

/** The rows generated as they are read: a source that never holds the file. */
async function* streamCsv(rows: number): AsyncGenerator<Buffer> {
  yield* benchCsvChunks(rows);
}

/**
 * Rows run through the same case before the baseline, so the process is warm like a
 * server that has already handled requests (code compiled, the heap's young generation
 * at its working size) and the growth is the import's own.
 */
const WARM_UP_ROWS = 20_000;

async function runCase(name: MemoryCase, context: MemoryContext): Promise<MemoryResult> {
  const orm = name === "parser" ? null : await openOrm(context.dbUrl);
  const app = name === "http-stream" || name === "trpc-json" ? await startAppServer({ orm: orm! }) : null;
  const config = testConfig();
  rmSync(config.dataDir, { recursive: true, force: true }); // a dry run stores nothing there
  const importOnce = async (rows: number, file: Buffer | null): Promise<ImportResponse> => {
    switch (name) {
      case "parser": {
        let parsed = 0;
        let errors = 0;
        for await (const item of parseHostsCsv(streamCsv(rows), { maxRows: rows, maxBytes: 1024 * 1024 * 1024 })) {
          if (item.kind === "error") errors++;
          else parsed++;
        }
        return { totalRows: parsed, errorCount: errors, created: 0, unchanged: 0 } as ImportResponse;
      }
      case "service-buffer":
        return importHosts(
          orm!.em.fork(),
          config,
          { id: context.userId, email: context.email },
          { content: file!, fileName: "bench-hosts-1m.csv", dryRun: true },
          { ip: null, userAgent: null, requestId: null },
        );
      case "http-stream":
        return answerOf(await postStream(`${app!.url}/hosts/import.csv?dryRun=true&fileName=bench-hosts-1m.csv`, context.token, streamCsv(rows)));
      case "trpc-json":
        // tRPC bodies must declare their length (they are read whole): measured first.
        return answerOf(await postStream(`${app!.url}/api/trpc/hosts.importCsv`, context.token, jsonBody(rows), "application/json", jsonBodyLength(rows)));
    }
  };
  try {
    await importOnce(WARM_UP_ROWS, name === "service-buffer" ? benchCsvInOneAllocation(WARM_UP_ROWS) : null);
    // The service takes the whole file; it is made before the baseline (it is the input).
    let file = name === "service-buffer" ? benchCsvInOneAllocation(context.rows) : null;
    collectGarbage();
    const baseline = process.memoryUsage.rss();
    const rss = sampleRss();
    const started = performance.now();
    const response = await importOnce(context.rows, file);
    const ms = performance.now() - started;
    const peak = rss.stop();
    file = null;
    return { ms, baseline, peak, rows: response.totalRows, errors: response.errorCount, created: response.created, unchanged: response.unchanged };
  } finally {
    await app?.close();
    if (app) rmSync(app.runtime.config.dataDir, { recursive: true, force: true });
    await orm?.close(true);
  }
}

function answerOf(answer: { status: number; body: string }): ImportResponse {
  if (answer.status !== 200) throw new Error(`answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  const parsed = JSON.parse(answer.body) as ImportResponse | { result: { data: ImportResponse } };
  return "result" in parsed ? parsed.result.data : parsed;
}

/**
 * hosts.importCsv's JSON body, written as the rows are generated (each CSV piece escaped
 * as part of the one "csv" string): the client holds none of it, so what grows is the
 * server's side.
 */
function* jsonBody(rows: number): Generator<Buffer> {
  yield JSON_HEAD;
  for (const chunk of benchCsvChunks(rows)) yield Buffer.from(JSON.stringify(chunk.toString("utf8")).slice(1, -1));
  yield JSON_TAIL;
}

function jsonBodyLength(rows: number): number {
  let length = 0;
  for (const piece of jsonBody(rows)) length += piece.length;
  return length;
}

const JSON_HEAD = Buffer.from('{"csv":"');
const JSON_TAIL = Buffer.from('","dryRun":true,"fileName":"bench-hosts-1m.csv"}');

if (process.argv[2] === CHILD_FLAG) {
  limitHeapHeadroom(); // as runServer does: each case measures the server as it runs
  const name = process.argv[3] as MemoryCase;
  const context = JSON.parse(process.env.BENCH_MEMORY_CONTEXT ?? "{}") as MemoryContext;
  const result = await runCase(name, context);
  console.log(`${RESULT_PREFIX}${JSON.stringify(result)}`);
  process.exit(0);
}
