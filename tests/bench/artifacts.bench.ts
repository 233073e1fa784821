import { createHash, randomBytes, randomFill } from "node:crypto";
import { chmodSync, createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync, statSync, statfsSync } from "node:fs";
import http from "node:http";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import busboy from "busboy";
import pg from "pg";
import { startAppServer, trpc } from "../support/app-server";
import { benchHost, benchOperatorToken, MiB, mbps, printLine, ratio, rssWatch, verdict } from "./bench-utils";
import { collectGarbage, mb, seconds, startBenchDatabase } from "./support";

/**
 * Artifact upload and download of a 1 GiB file through the real app (Express + Remix build
 * in this process, embedded PostgreSQL, an operator's API token, real HTTP on loopback),
 * against bare Node servers in the same process and the same run:
 *  (a) upload baseline: http server, busboy → fs.createWriteStream;
 *  (b) download baseline: http server, fs.createReadStream → response (the app's stored file,
 *      read in 256 KiB chunks like the app's store).
 * One client for all: http.request streaming a multipart body (preamble, file stream,
 * epilogue), and for downloads the response piped into a byte-counting sink.
 * Each measurement runs twice, baseline and app alternating; the better run is kept.
 * `BENCH_ARTIFACT_MB` shrinks the file while working on it (default 1024 = 1 GiB).
 *
 * Where the bytes live: the source file, the baseline's upload and the app's artifact
 * store all sit in one directory on the same filesystem. By default that is tmpfs
 * (/dev/shm) when it has room, so a slow shared disk does not cap both sides at the same
 * figure and hide the app's own cost; `BENCH_ARTIFACT_DIR=/some/disk/dir` measures on a disk.
 */
const SIZE = Number(process.env.BENCH_ARTIFACT_MB ?? 1024) * MiB;
const RUNS = 2;
const UPLOAD_TARGET = 0.7;
const DOWNLOAD_TARGET = 0.8;
const RSS_GROWTH_TARGET = 64 * MiB;
const CHUNK = 4 * MiB;
const CLIENT_READ_HWM = 256 * 1024;

type Transfer = { ms: number; bytes: number; status: number; body: string };
type Memory = { base: number; peak: number; growth: number };
type Measured = Transfer & { memory: Memory };

export async function run(): Promise<void> {
  const runStarted = performance.now();
  const workDir = transferDir();
  const source = path.join(workDir, "source.bin");
  const db = await startBenchDatabase();
  let app: Awaited<ReturnType<typeof startAppServer>> | undefined;
  let bare: BareServer | undefined;
  const sql = new pg.Client({ connectionString: db.url });
  try {
    // The app's artifact store is put next to the baseline's files (same filesystem).
    app = await startAppServer(db, { artifactStoragePath: path.join(workDir, "app-artifacts") });
    await sql.connect();
    const token = await benchOperatorToken(db, app);
    const hostId = await benchHost(app, token, { hostname: "bench-artifacts.example", ip: "10.0.0.1" });
    const auth = { authorization: `Bearer ${token}` };

    const genStarted = performance.now();
    const sourceSha = await writeRandomFile(source, SIZE);
    const maxBytes = 1_073_741_824; // the artifacts.maxBytes default; the file's bytes must be ≤ it
    console.log(
      `artifacts: ${mb(SIZE)} random file generated in ${seconds(performance.now() - genStarted)}; artifacts.maxBytes ${mb(maxBytes)} (default, not raised: the file is ≤ it)`,
    );
    console.log(`  files (source, baseline upload, app artifact store): ${workDir} (${fsType(workDir)})`);
    console.log("  client: http.request, multipart body streamed (preamble, fs.createReadStream 256 KiB chunks, epilogue); downloads piped to a counting sink");
    console.log(`  each figure is the better of ${RUNS} runs (baseline and app alternate); load average before: ${loadText()}`);

    bare = await startBareServer(workDir);
    const baseline = { up: [] as Measured[], down: [] as Measured[] };
    const ours = { up: [] as Measured[], down: [] as Measured[] };
    const artifactIds: string[] = [];

    // Uploads: baseline, app, baseline, app.
    for (let i = 0; i < RUNS; i += 1) {
      collectGarbage();
      const bareWatch = rssWatch(50);
      const b = await uploadOnce(`${bare.url}/upload`, source, SIZE, {});
      const bareMemory = bareWatch.stop();
      if (b.status !== 201) throw new Error(`bare upload failed: ${b.status} ${b.body}`);
      const stored = statSync(bare.uploadPath).size;
      if (stored !== SIZE) throw new Error(`bare upload stored ${stored} bytes, expected ${SIZE}`);
      rmSync(bare.uploadPath, { force: true });
      baseline.up.push({ ...b, memory: bareMemory });

      collectGarbage();
      const watch = rssWatch(50);
      const a = await uploadOnce(`${app.url}/artifacts/${hostId}/artifacts`, source, SIZE, auth);
      const memory = watch.stop();
      if (a.status !== 201) throw new Error(`app upload failed: ${a.status} ${a.body.slice(0, 300)}`);
      const artifact = JSON.parse(a.body) as { id: string; sizeBytes: number; sha256: string };
      if (artifact.sizeBytes !== SIZE || artifact.sha256 !== sourceSha) {
        throw new Error(`app stored ${artifact.sizeBytes} bytes with sha256 ${artifact.sha256}, expected ${SIZE} / ${sourceSha}`);
      }
      artifactIds.push(artifact.id);
      ours.up.push({ ...a, memory });
    }

    // The first artifact is downloaded; the others go now (their files leave the disk).
    const [downloadId, ...extra] = artifactIds as [string, ...string[]];
    for (const id of extra) await trpc(app.url, "artifacts.delete", { mutation: true, token, input: { id } });
    const { rows } = await sql.query<{ stored_name: string }>("select stored_name from artifacts where id = $1", [downloadId]);
    const storedFile = path.join(app.runtime.config.artifactStoragePath, rows[0]?.stored_name ?? "missing");
    bare.downloadPath = storedFile; // the baseline serves the very file the app serves

    // Downloads: baseline, app, baseline, app.
    for (let i = 0; i < RUNS; i += 1) {
      collectGarbage();
      const bareWatch = rssWatch(50);
      const b = await downloadOnce(`${bare.url}/download`, {});
      const bareMemory = bareWatch.stop();
      if (b.status !== 200 || b.bytes !== SIZE) throw new Error(`bare download: ${b.status}, ${b.bytes} bytes`);
      baseline.down.push({ ...b, memory: bareMemory });

      collectGarbage();
      const watch = rssWatch(50);
      const a = await downloadOnce(`${app.url}/artifacts/${downloadId}/download`, auth);
      const memory = watch.stop();
      if (a.status !== 200 || a.bytes !== SIZE) throw new Error(`app download: ${a.status}, ${a.bytes} bytes ${a.body}`);
      ours.down.push({ ...a, memory });
    }

    const best = <T extends Transfer>(runs: T[]): T => runs.reduce((x, y) => (y.ms < x.ms ? y : x));
    const runsText = (runs: Transfer[]) => `runs: ${runs.map((r) => mbps(SIZE, r.ms)).join(", ")}`;
    const upBase = best(baseline.up);
    const upApp = best(ours.up);
    const downBase = best(baseline.down);
    const downApp = best(ours.down);
    const upRatio = upBase.ms / upApp.ms;
    const downRatio = downBase.ms / downApp.ms;

    console.log(`\nupload (${mb(SIZE)}, better of ${RUNS})`);
    printLine("(a) bare busboy → fs.createWriteStream", `${mbps(SIZE, upBase.ms).padStart(12)}  ${seconds(upBase.ms)}  (${runsText(baseline.up)})`);
    printLine("app POST /artifacts/:hostId/artifacts", `${mbps(SIZE, upApp.ms).padStart(12)}  ${seconds(upApp.ms)}  (${runsText(ours.up)})`);
    printLine("app / baseline", `${ratio(upRatio)}  ${verdict(upRatio >= UPLOAD_TARGET, `>= ${UPLOAD_TARGET}x`)}`);

    console.log(`\ndownload (${mb(SIZE)}, better of ${RUNS})`);
    printLine("(b) bare fs.createReadStream(256K) → res", `${mbps(SIZE, downBase.ms).padStart(12)}  ${seconds(downBase.ms)}  (${runsText(baseline.down)})`);
    printLine("app GET /artifacts/:id/download", `${mbps(SIZE, downApp.ms).padStart(12)}  ${seconds(downApp.ms)}  (${runsText(ours.down)})`);
    printLine("app / baseline", `${ratio(downRatio)}  ${verdict(downRatio >= DOWNLOAD_TARGET, `>= ${DOWNLOAD_TARGET}x`)}`);

    console.log("\nmemory during the app's transfers (RSS of this process: app + client, sampled every 50 ms from a post-GC baseline)");
    for (const [label, runs, bareRuns] of [
      ["upload", ours.up, baseline.up],
      ["download", ours.down, baseline.down],
    ] as const) {
      runs.forEach((r, i) => {
        const ok = r.memory.growth < RSS_GROWTH_TARGET;
        printLine(
          `app ${label} run ${i + 1}`,
          `peak ${mb(r.memory.peak)}, growth +${mb(r.memory.growth)} over ${mb(r.memory.base)}  ${verdict(ok, "growth < 64 MB")}`,
        );
      });
      const bareGrowth = bareRuns.map((r) => `+${mb(r.memory.growth)}`).join(", ");
      printLine(`  for comparison, bare ${label} growth`, bareGrowth);
    }
    console.log(`\ntotal ${seconds(performance.now() - runStarted)}; load average after: ${loadText()} (shared machine: other work skews both sides)`);
  } finally {
    await bare?.close();
    await sql.end().catch(() => {});
    await app?.close();
    if (app) rmSync(app.runtime.config.dataDir, { recursive: true, force: true });
    await db.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** BENCH_ARTIFACT_DIR, else /dev/shm when it has room for three copies, else the temp dir. */
function transferDir(): string {
  const wanted = process.env.BENCH_ARTIFACT_DIR;
  const shmRoom = existsSync("/dev/shm") ? statfsSync("/dev/shm").bavail * statfsSync("/dev/shm").bsize : 0;
  const root = wanted ?? (shmRoom > 3.5 * SIZE ? "/dev/shm" : tmpdir());
  const dir = mkdtempSync(path.join(root, "opsdesk-bench-artifacts-"));
  chmodSync(dir, 0o755);
  return dir;
}

function fsType(dir: string): string {
  const type = statfsSync(dir).type;
  return type === 0x01021994 ? "tmpfs: memory, no disk I/O" : `filesystem type 0x${type.toString(16)}: disk`;
}

const loadText = () => loadavg().map((l) => l.toFixed(2)).join(" / ");

/** A file of `size` random bytes, written in 4 MiB chunks (never whole in memory); returns its sha256. */
async function writeRandomFile(file: string, size: number): Promise<string> {
  const fill = (buffer: Buffer) =>
    new Promise<Buffer>((resolve, reject) => randomFill(buffer, (error, filled) => (error ? reject(error) : resolve(filled))));
  const hash = createHash("sha256");
  async function* chunks() {
    for (let written = 0; written < size; written += CHUNK) {
      const chunk = await fill(Buffer.allocUnsafe(Math.min(CHUNK, size - written)));
      hash.update(chunk);
      yield chunk;
    }
  }
  await pipeline(Readable.from(chunks()), createWriteStream(file));
  return hash.digest("hex");
}

/** POSTs the file as multipart field `file`, the body streamed: preamble, file, epilogue. */
function uploadOnce(url: string, file: string, size: number, headers: Record<string, string>): Promise<Transfer> {
  const boundary = `----opsdesk-bench-${randomBytes(8).toString("hex")}`;
  const preamble = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const epilogue = Buffer.from(`\r\n--${boundary}--\r\n`);
  async function* body() {
    yield preamble;
    yield* createReadStream(file, { highWaterMark: CLIENT_READ_HWM });
    yield epilogue;
  }
  return new Promise<Transfer>((resolve, reject) => {
    const started = performance.now();
    const req = http.request(url, {
      method: "POST",
      agent: false,
      headers: {
        ...headers,
        accept: "application/json",
        "content-type": `multipart/form-data; boundary=${boundary}`,
        "content-length": String(preamble.length + size + epilogue.length),
      },
    });
    req.on("response", (res) => {
      const parts: Buffer[] = [];
      res.on("data", (chunk: Buffer) => parts.push(chunk));
      res.on("end", () =>
        resolve({ ms: performance.now() - started, bytes: size, status: res.statusCode ?? 0, body: Buffer.concat(parts).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    // A server that answers early (an error) may close before the body is sent: the
    // response above is what counts, so a write error after it is ignored.
    pipeline(Readable.from(body()), req).catch(() => undefined);
  });
}

/** GETs a URL, piping the body into a sink that only counts bytes. */
function downloadOnce(url: string, headers: Record<string, string>): Promise<Transfer> {
  return new Promise<Transfer>((resolve, reject) => {
    const started = performance.now();
    const req = http.get(url, { agent: false, headers }, (res) => {
      let bytes = 0;
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          done();
        },
      });
      pipeline(res, sink).then(
        () => resolve({ ms: performance.now() - started, bytes, status: res.statusCode ?? 0, body: res.statusCode === 200 ? "" : "(error body)" }),
        reject,
      );
    });
    req.on("error", reject);
  });
}

type BareServer = { url: string; uploadPath: string; downloadPath: string; close: () => Promise<void> };

/**
 * The baselines: a bare Node http server. POST /upload: busboy → fs.createWriteStream,
 * 201 once the file is on disk. GET /download: fs.createReadStream → response.
 */
async function startBareServer(dir: string): Promise<BareServer> {
  const state: BareServer = { url: "", uploadPath: path.join(dir, "bare-upload.bin"), downloadPath: "", close: async () => {} };
  const server = http.createServer((req, res) => {
    if (req.method === "POST" && req.url === "/upload") {
      const bb = busboy({ headers: req.headers });
      let writing: Promise<void> | null = null;
      bb.on("file", (_name, file) => {
        writing = pipeline(file, createWriteStream(state.uploadPath));
      });
      bb.on("close", () => {
        void (writing ?? Promise.reject(new Error("no file"))).then(
          () => {
            res.writeHead(201, { "content-type": "application/json" });
            res.end('{"ok":true}');
          },
          (error: unknown) => {
            res.writeHead(500, { "content-type": "text/plain" });
            res.end(String(error));
          },
        );
      });
      req.pipe(bb);
      return;
    }
    if (req.method === "GET" && req.url === "/download") {
      const size = statSync(state.downloadPath).size;
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(size) });
      // The same 256 KiB read size as the app's store (Node's default, 64 KiB, is slower
      // here and would flatter the app's ratio).
      pipeline(createReadStream(state.downloadPath, { highWaterMark: 256 * 1024 }), res).catch(() => undefined);
      return;
    }
    res.writeHead(404).end();
  });
  server.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const address = server.address();
  state.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
