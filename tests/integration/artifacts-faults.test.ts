import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AppServer, startAppServer, trpc } from "../support/app-server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { signInAs } from "../support/identity";
import { makeTempDir } from "../support/temp-dir";

/**
 * Faults of the artifact store seen from a client: a really full disk (a small tmpfs made
 * by the test), an upload over a slow link, and a client that stops sending mid-upload.
 * Each must end with a clear status and leave no file and no row behind.
 */
let db: TestDatabase;
let app: AppServer;
let token: string;
let hostId: number;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startAppServer(db, { uploadIdleTimeoutMs: 2_000 });
  token = (await signInAs(db, app, "operator")).accessToken;
  const host = await trpc<{ id: number }>(app.url, "hosts.create", {
    mutation: true,
    token,
    input: { hostname: "faults.artifacts.test" },
  });
  hostId = host.data!.id;
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

async function rowCount(): Promise<number> {
  const [row] = await db.orm.em.fork().execute<{ n: string }[]>("select count(*) as n from artifacts");
  return Number(row!.n);
}

function filesIn(root: string): string[] {
  const dir = path.join(root, `host_${hostId}`);
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

async function upload(url: string, content: Buffer, filename: string) {
  const form = new FormData();
  form.set("file", new Blob([new Uint8Array(content)]), filename);
  const res = await fetch(`${url}/artifacts/${hostId}/artifacts`, {
    method: "POST",
    body: form,
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as { sha256?: string; error?: { message: string } } };
}

/**
 * Sends a multipart upload of `total` bytes in `chunk`-sized writes every `everyMs`; stops
 * sending (but keeps the connection open) after `stallAfter` bytes when given.
 */
function paced(options: { total: number; chunk: number; everyMs: number; stallAfter?: number }) {
  const boundary = "----paced";
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.bin"\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const hash = createHash("sha256");
  return new Promise<{ status: number; body: { sha256?: string; error?: { message: string } }; sha256: string; ms: number }>(
    (resolve, reject) => {
      const started = Date.now();
      const req = httpRequest({
        host: "127.0.0.1",
        port: new URL(app.url).port,
        method: "POST",
        path: `/artifacts/${hostId}/artifacts`,
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json",
          "content-type": `multipart/form-data; boundary=${boundary}`,
          "content-length": String(head.length + options.total + tail.length),
        },
      });
      let sent = 0;
      let timer: NodeJS.Timeout | undefined;
      req.on("error", (error) => {
        clearInterval(timer);
        reject(error);
      });
      req.on("response", (res) => {
        clearInterval(timer);
        let text = "";
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), sha256: hash.digest("hex"), ms: Date.now() - started });
          req.destroy();
        });
      });
      req.write(head);
      timer = setInterval(() => {
        if (options.stallAfter !== undefined && sent >= options.stallAfter) return; // silent, socket open
        const size = Math.min(options.chunk, options.total - sent);
        const bytes = Buffer.alloc(size, sent % 251);
        hash.update(bytes);
        req.write(bytes);
        sent += size;
        if (sent >= options.total) {
          clearInterval(timer);
          req.end(tail);
        }
      }, options.everyMs);
    },
  );
}

describe("a slow or stalled client", () => {
  test(
    "an upload at about 50 kB/s for 2.5 MiB is stored intact, not cut by a server timeout",
    async () => {
      const before = await rowCount();
      const total = Math.round(2.5 * 1024 * 1024);
      const result = await paced({ total, chunk: 5_000, everyMs: 100 });
      console.log(`slow upload: ${total} bytes in ${(result.ms / 1000).toFixed(1)} s (${Math.round(total / result.ms)} kB/s)`);
      expect(result.status).toBe(201);
      expect(result.body.sha256).toBe(result.sha256);
      expect(result.ms).toBeGreaterThan(40_000); // it really was slow
      expect(await rowCount()).toBe(before + 1);
    },
    120_000,
  );

  test("an upload that stops sending is answered 408 after the idle timeout and leaves no file and no row", async () => {
    const root = app.runtime.config.artifactStoragePath;
    const before = { files: filesIn(root).filter((f) => !f.startsWith(".upload-")), rows: await rowCount() };
    const result = await paced({ total: 3_000_000, chunk: 50_000, everyMs: 50, stallAfter: 200_000 });
    expect(result.status).toBe(408);
    expect(result.body.error?.message).toMatch(/stalled/);
    expect(result.ms).toBeLessThan(10_000);
    await expect.poll(() => filesIn(root), { timeout: 5_000 }).toEqual(before.files);
    expect(await rowCount()).toBe(before.rows);
  }, 30_000);
});

/** A 2 MiB tmpfs needs root (mount); elsewhere this part says why it did not run. */
const tmpfsProblem = (() => {
  if (process.getuid?.() !== 0) return "mounting a tmpfs needs root, and this run is not root";
  if (process.platform !== "linux") return "tmpfs is Linux only";
  return null;
})();
if (tmpfsProblem) console.warn(`skipping the full-disk test: ${tmpfsProblem}`);

describe.skipIf(tmpfsProblem !== null)("a full disk (a real 2 MiB tmpfs)", () => {
  let mountPoint: string;
  let mounted = false;
  let small: AppServer;

  beforeAll(async () => {
    mountPoint = makeTempDir("opsdesk-full-disk-");
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", mountPoint]);
    mounted = true;
    small = await startAppServer(db, { artifactStoragePath: mountPoint });
  });
  afterAll(async () => {
    await small?.close();
    if (mounted) execFileSync("umount", [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  test("an upload larger than the free space answers 507, deletes the partial file, adds no row, and the server keeps serving", async () => {
    const before = await rowCount();
    const full = await upload(small.url, Buffer.alloc(3 * 1024 * 1024, 5), "too-big.bin");
    expect(full.status).toBe(507);
    expect(full.body.error?.message).toMatch(/full/);
    expect(filesIn(mountPoint)).toEqual([]);
    expect(await rowCount()).toBe(before);
    // The space is free again: a file that fits goes in.
    const fits = await upload(small.url, Buffer.alloc(500_000, 6), "fits.bin");
    expect(fits.status).toBe(201);
    expect(filesIn(mountPoint)).toHaveLength(1);
    expect((await fetch(`${small.url}/healthz`)).status).toBe(200);
  });
});
