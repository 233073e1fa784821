import { Writable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { copyIn, copyOut } from "../../server/services/pg-copy";
import { startBenchDatabase } from "./support";

/**
 * Our COPY protocol code against the maintained library, pg-copy-streams, side by side in
 * alternating rounds on the same data (ADR 018). COPY FROM: the import's shape, many
 * batches one after another on one connection: our pipelined `copyIn` against the
 * library's `from()`. COPY TO: the audit export's shape, one large result into a consumer
 * that takes a moment per chunk: `copyOut` (the library's `to()` since ADR 018, with our
 * backpressure and disconnect handling) against a bare `to()` pipeline, i.e. the wrapper's
 * cost. Prints each median and the ratio.
 */
const ROWS = Number(process.env.COPY_BENCH_ROWS ?? 200_000);
const BATCH = 2_000;
const ROUNDS = 5;

export async function run(): Promise<void> {
  const db = await startBenchDatabase();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query("create table copy_bench (id int primary key, hostname text, notes text)");
    const batches: Buffer[] = [];
    for (let start = 0; start < ROWS; start += BATCH) {
      let csv = "";
      for (let id = start; id < Math.min(ROWS, start + BATCH); id++) csv += `${id},host-${id}.example.net,"rack ${id % 40}, row ${id % 7}"\n`;
      batches.push(Buffer.from(csv));
    }
    const sql = "copy copy_bench (id, hostname, notes) from stdin with (format csv)";
    const own = async () => {
      for (const batch of batches) await copyIn(client, sql, [batch]);
    };
    const lib = async () => {
      for (const batch of batches) {
        const stream = client.query(copyFrom(sql));
        stream.end(batch);
        await finished(stream);
      }
    };
    const fromTimes = { own: [] as number[], lib: [] as number[] };
    await own(); // warm-up of both paths, untimed
    await client.query("truncate copy_bench");
    await lib();
    for (let round = 0; round < ROUNDS; round++) {
      const order: [keyof typeof fromTimes, () => Promise<void>][] = [["own", own], ["lib", lib]];
      for (const [name, fn] of round % 2 ? order.reverse() : order) {
        await client.query("truncate copy_bench");
        await client.query("checkpoint");
        const started = performance.now();
        await fn();
        fromTimes[name].push(performance.now() - started);
      }
    }

    const out = "copy (select id, hostname, notes from copy_bench order by id) to stdout with (format csv)";
    const sink = () =>
      new Writable({
        highWaterMark: 64 * 1024,
        write(_chunk, _enc, done) {
          setImmediate(done); // a consumer that takes a moment, as a socket does
        },
      });
    const ownOut = () => copyOut(db.orm.em.fork(), out, sink());
    const libOut = async () => {
      const reader = new pg.Client({ connectionString: db.url });
      await reader.connect();
      try {
        await pipeline(reader.query(copyTo(out)), sink());
      } finally {
        await reader.end();
      }
    };
    const toTimes = { own: [] as number[], lib: [] as number[] };
    await ownOut();
    await libOut();
    for (let round = 0; round < ROUNDS; round++) {
      const order: [keyof typeof toTimes, () => Promise<unknown>][] = [["own", ownOut], ["lib", libOut]];
      for (const [name, fn] of round % 2 ? order.reverse() : order) {
        const started = performance.now();
        await fn();
        toTimes[name].push(performance.now() - started);
      }
    }

    console.log(`  ${ROWS.toLocaleString("en-US")} rows, ${batches.length} COPY FROM statements of ${BATCH} rows; ${ROUNDS} alternating rounds, medians`);
    report("COPY FROM (import batches)", fromTimes);
    report("COPY TO (export)", toTimes, "copyOut");
  } finally {
    await client.end();
    await db.close();
  }
}

function report(label: string, times: { own: number[]; lib: number[] }, ours = "own") {
  const own = median(times.own);
  const lib = median(times.lib);
  console.log(
    `  ${label.padEnd(28)} ${ours} ${own.toFixed(0).padStart(6)} ms   bare pg-copy-streams ${lib.toFixed(0).padStart(6)} ms   library time / ${ours} ${(lib / own).toFixed(2)}×`,
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
