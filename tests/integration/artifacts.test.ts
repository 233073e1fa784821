import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Role } from "../../server/auth/roles";
import { sweepOrphanFiles } from "../../server/services/artifacts/artifacts.service";
import { artifactStorage } from "../../server/http/runtime";
import { type AppServer, startAppServer, trpc } from "../support/app-server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { signInAs } from "../support/identity";
import { type S3TestServer, startS3Server } from "../support/s3-server";

/**
 * One suite, run against both artifact stores: the local directory and an S3-compatible
 * bucket (a real s3rver on loopback). `storedKeys`/`storedBytes` look at the store itself,
 * not through the app, so "nothing left behind" is checked where the bytes live.
 */
for (const store of ["fs", "s3"] as const) describe(`with the ${store} artifact store`, () => {
let db: TestDatabase;
let app: AppServer;
const tokens = new Map<Role, string>();
let hostId: number;
let storageRoot: string;
let s3: S3TestServer | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  if (store === "s3") s3 = await startS3Server();
  app = await startAppServer(
    db,
    s3
      ? {
          artifactStore: "s3",
          s3: {
            endpoint: s3.endpoint,
            bucket: s3.bucket,
            region: s3.region,
            forcePathStyle: true,
            credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
          },
        }
      : {},
  );
  storageRoot = app.runtime.config.artifactStoragePath;
  for (const role of ["admin", "operator", "auditor", "viewer"] as const) {
    const login = await signInAs(db, app, role);
    tokens.set(role, login.accessToken);
  }
  const host = await trpc<{ id: number }>(app.url, "hosts.create", {
    mutation: true,
    token: tokens.get("operator"),
    input: { hostname: "files.artifacts.test" },
  });
  hostId = host.data!.id;
});
afterAll(async () => {
  await app.close();
  await db.drop();
  await s3?.close();
});

type Uploaded = { id: string; hostId: number; originalName: string; sizeBytes: number; sha256: string; contentType: string; createdAt: string };

async function upload(content: Buffer | string, filename: string, role: Role = "operator", target = hostId) {
  const form = new FormData();
  form.set("file", new Blob([typeof content === "string" ? Buffer.from(content) : new Uint8Array(content)]), filename);
  const res = await fetch(`${app.url}/artifacts/${target}/artifacts`, {
    method: "POST",
    body: form,
    headers: { authorization: `Bearer ${tokens.get(role)}` },
  });
  const body = (await res.json()) as Uploaded & { error?: { message: string } };
  return { status: res.status, body };
}

function download(id: string, headers: Record<string, string> = {}, role: Role = "operator", method = "GET") {
  return fetch(`${app.url}/artifacts/${id}/download`, { method, headers: { authorization: `Bearer ${tokens.get(role)}`, ...headers } });
}

/** Names stored under a host's folder (temporary and finished), read from the store itself. */
async function storedKeys(target = hostId): Promise<string[]> {
  if (s3) {
    const prefix = `host_${target}/`;
    return (await s3.listKeys()).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  }
  const dir = path.join(storageRoot, `host_${target}`);
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

async function storedBytes(key: string): Promise<Buffer> {
  return s3 ? s3.getObject(key) : readFileSync(path.join(storageRoot, key));
}

async function rowCount(): Promise<number> {
  const [row] = await db.orm.em.fork().execute<{ n: string }[]>("select count(*) as n from artifacts");
  return Number(row!.n);
}

describe("upload and download", () => {
  test("an upload is stored as host_<id>/<uuid>.<ext> with its sha256, and downloads intact", async () => {
    const content = Buffer.from(`server log line\n${"x".repeat(100_000)}\n`);
    const { status, body } = await upload(content, "app.log");
    expect(status).toBe(201);
    expect(body).toMatchObject({
      hostId,
      originalName: "app.log",
      sizeBytes: content.length,
      sha256: createHash("sha256").update(content).digest("hex"),
      contentType: "text/plain; charset=utf-8",
    });
    expect((await storedBytes(`host_${hostId}/${body.id}.log`)).equals(content)).toBe(true);

    const res = await download(body.id);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(content)).toBe(true);
    expect(res.headers.get("etag")).toBe(`"${body.sha256}"`);
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="app.log"; filename*=UTF-8''app.log`);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    const [event] = await db.orm.em
      .fork()
      .execute("select actor_email from audit_events where action = 'ARTIFACT_DOWNLOADED' and target_id = ?", [body.id]);
    expect(event).toBeDefined();
  });

  test.each([
    ["../../etc/passwd", "passwd"],
    ["..\\..\\x", "x"],
    ["%2e%2e%2fsecret.txt", "secret.txt"],
    ["a%00b.txt", "ab.txt"],
    ["invoice\u202Efdp.exe", "invoicefdp.exe"],
  ])("the hostile name %j is stored safely as %j", async (name, expected) => {
    const { status, body } = await upload("hello", name);
    expect(status).toBe(201);
    expect(body.originalName).toBe(expected);
    const files = await storedKeys();
    expect(files.some((f) => f.startsWith(body.id))).toBe(true);
    expect(existsSync("/etc/passwd.bak")).toBe(false);
    for (const f of files) expect(f).toMatch(/^[0-9a-f-]{36}\.[a-z0-9]+$/);
  });

  test("a 10 KB name is cut to 255 bytes, keeping the extension", async () => {
    const { status, body } = await upload("x", `${"n".repeat(10_240)}.txt`);
    expect(status).toBe(201);
    expect(Buffer.byteLength(body.originalName)).toBeLessThanOrEqual(255);
    expect(body.originalName.endsWith(".txt")).toBe(true);
  });

  test("HTML and SVG are never served inline or with their own type", async () => {
    for (const [name, content] of [
      ["page.html", "<html><script>alert(1)</script></html>"],
      ["pic.svg", '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
    ]) {
      const { body } = await upload(content!, name!);
      const res = await download(body.id);
      expect(res.headers.get("content-disposition")).toMatch(/^attachment;/);
      expect(res.headers.get("content-type")).not.toMatch(/html|svg|xml/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      await res.arrayBuffer();
    }
  });

  test("concurrent uploads all land, each intact", async () => {
    const contents = Array.from({ length: 6 }, (_, i) => Buffer.alloc(200_000 + i, i + 1));
    const results = await Promise.all(contents.map((c, i) => upload(c, `part-${i}.bin`)));
    for (const [i, r] of results.entries()) {
      expect(r.status).toBe(201);
      expect(r.body.sha256).toBe(createHash("sha256").update(contents[i]!).digest("hex"));
    }
  });
});

describe("large files", () => {
  const big = Buffer.alloc(20 * 1024 * 1024 + 123);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i); // every block differs
  let id: string;

  test("a 20 MiB file (multipart on S3) is stored intact and read back by ranges", async () => {
    const { status, body } = await upload(big, "disk.img");
    expect(status).toBe(201);
    id = body.id;
    expect(body.sha256).toBe(createHash("sha256").update(big).digest("hex"));
    const name = (await storedKeys()).find((k) => k.startsWith(id));
    expect((await storedBytes(`host_${hostId}/${name}`)).equals(big)).toBe(true);
    const tail = await download(id, { range: `bytes=${big.length - 5000}-` });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(big.subarray(big.length - 5000))).toBe(true);
    const middle = await download(id, { range: "bytes=9000000-9000099" });
    expect(Buffer.from(await middle.arrayBuffer()).equals(big.subarray(9_000_000, 9_000_100))).toBe(true);
  });

  test("an upload cut off after 12 MiB (past the first S3 part) leaves no object, no temporary file and no row", async () => {
    const before = { keys: await storedKeys(), rows: await rowCount() };
    const cut = await abortAfter(12 * 1024 * 1024 + 1000);
    expect(cut).toBe("aborted");
    await expect.poll(async () => storedKeys(), { timeout: 10_000 }).toEqual(before.keys);
    expect(await rowCount()).toBe(before.rows);
  });

  function abortAfter(bytes: number) {
    const port = new URL(app.url).port;
    return new Promise<string>((resolve) => {
      const boundary = "----cut";
      const req = httpRequest({
        host: "127.0.0.1",
        port,
        method: "POST",
        path: `/artifacts/${hostId}/artifacts`,
        headers: {
          authorization: `Bearer ${tokens.get("operator")}`,
          "content-type": `multipart/form-data; boundary=${boundary}`,
          "content-length": String(bytes + 10_000_000),
        },
      });
      req.on("error", () => resolve("aborted"));
      req.on("response", (res) => resolve(`answered ${res.statusCode}`));
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.bin"\r\n\r\n`);
      const chunk = Buffer.alloc(256 * 1024, 9);
      let sent = 0;
      const pump = () => {
        while (sent < bytes) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        // Give the server time to send the first part, then vanish mid-body.
        setTimeout(() => {
          req.destroy();
          resolve("aborted");
        }, 1500);
      };
      pump();
    });
  }
});

describe("ranges", () => {
  let id: string;
  const content = Buffer.from("0123456789abcdefghij");
  beforeAll(async () => {
    id = (await upload(content, "range.txt")).body.id;
  });

  test.each([
    ["bytes=0-4", 206, "01234", "bytes 0-4/20"],
    ["bytes=15-", 206, "fghij", "bytes 15-19/20"],
    ["bytes=-3", 206, "hij", "bytes 17-19/20"],
    ["bytes=10-100", 206, "abcdefghij", "bytes 10-19/20"],
  ])("%s answers %i with the right bytes", async (range, status, body, contentRange) => {
    const res = await download(id, { range });
    expect(res.status).toBe(status);
    expect(await res.text()).toBe(body);
    expect(res.headers.get("content-range")).toBe(contentRange);
  });

  test("an unsatisfiable range answers 416 with the size", async () => {
    const res = await download(id, { range: "bytes=20-30" });
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe("bytes */20");
  });

  test("HEAD gives headers only; If-None-Match with the ETag gives 304", async () => {
    const head = await download(id, {}, "operator", "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("20");
    const etag = head.headers.get("etag")!;
    expect((await download(id, { "if-none-match": etag })).status).toBe(304);
  });
});

describe("limits and failures leave nothing behind", () => {
  test("one byte over the limit is refused with 413 and leaves no file and no row", async () => {
    await trpc(app.url, "settings.update", { mutation: true, token: tokens.get("admin"), input: { "artifacts.maxBytes": 1000 } });
    try {
      const before = { files: (await storedKeys()), rows: await rowCount() };
      expect((await upload(Buffer.alloc(1000, 1), "exact.bin")).status).toBe(201);
      const over = await upload(Buffer.alloc(1001, 1), "over.bin");
      expect(over.status).toBe(413);
      expect(over.body.error?.message).toMatch(/limit/);
      expect((await storedKeys()).length).toBe(before.files.length + 1);
      expect(await rowCount()).toBe(before.rows + 1);
    } finally {
      await trpc(app.url, "settings.update", { mutation: true, token: tokens.get("admin"), input: { "artifacts.maxBytes": 1_073_741_824 } });
    }
  });

  test("repeated aborted uploads leave file count, open handles and rows unchanged", async () => {
    const fds = () => readdirSync("/proc/self/fd").length;
    await abortedUpload(); // warm up: pooled connections and sockets settle first
    await new Promise((r) => setTimeout(r, 300));
    const before = { files: (await storedKeys()), rows: await rowCount(), fds: fds() };
    for (let i = 0; i < 5; i++) await abortedUpload();
    await new Promise((r) => setTimeout(r, 500));
    expect((await storedKeys())).toEqual(before.files);
    expect(await rowCount()).toBe(before.rows);
    expect(fds()).toBeLessThanOrEqual(before.fds);
  });

  function abortedUpload() {
    const port = new URL(app.url).port;
    return new Promise<void>((resolve) => {
        const boundary = "----abort";
        const req = httpRequest({
          host: "127.0.0.1",
          port,
          method: "POST",
          path: `/artifacts/${hostId}/artifacts`,
          headers: {
            authorization: `Bearer ${tokens.get("operator")}`,
            "content-type": `multipart/form-data; boundary=${boundary}`,
            "content-length": String(10_000_000),
          },
        });
        req.on("error", () => resolve());
        req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n`);
        req.write(Buffer.alloc(300_000, 7));
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 150);
      });
  }
});

describe("the orphan sweep", () => {
  test("removes bytes no row knows about (a crash between store and row) and keeps every artifact", async () => {
    const kept = await upload("keep me", "kept.txt");
    const storage = artifactStorage(app.runtime);
    const orphanKey = `host_${hostId}/00000000-0000-4000-8000-000000000001.bin`;
    const orphan = await storage.beginUpload(orphanKey);
    orphan.stream.end(Buffer.from("no row"));
    await new Promise((resolve, reject) => orphan.stream.once("finish", resolve).once("error", reject));
    await orphan.commit();
    expect(await storedKeys()).toContain("00000000-0000-4000-8000-000000000001.bin");
    // Young files are left alone (an upload may be finishing on another instance).
    expect(await sweepOrphanFiles(db.orm.em.fork(), storage)).toBe(0);
    expect(await sweepOrphanFiles(db.orm.em.fork(), storage, 0)).toBe(1);
    const keys = await storedKeys();
    expect(keys).not.toContain("00000000-0000-4000-8000-000000000001.bin");
    expect(keys.some((k) => k.startsWith(kept.body.id))).toBe(true);
  });
});

describe("roles", () => {
  test("viewers can list but not download or upload; auditors download but cannot upload; anonymous gets 401", async () => {
    const { body } = await upload("role check", "roles.txt");
    const list = await trpc<{ items: unknown[] }>(app.url, "artifacts.list", { token: tokens.get("viewer"), input: { hostId } });
    expect(list.status).toBe(200);
    expect((await download(body.id, {}, "viewer")).status).toBe(403);
    expect((await download(body.id, {}, "auditor")).status).toBe(200);
    expect((await upload("x", "x.txt", "viewer")).status).toBe(403);
    expect((await upload("x", "x.txt", "auditor")).status).toBe(403);
    const anon = await fetch(`${app.url}/artifacts/${body.id}/download`, { headers: { accept: "application/json" } });
    expect(anon.status).toBe(401);
  });
});

describe("deleting", () => {
  test("deleting an artifact removes its row and its file, audited", async () => {
    const { body } = await upload("to delete", "gone.txt");
    const res = await trpc(app.url, "artifacts.delete", { mutation: true, token: tokens.get("operator"), input: { id: body.id } });
    expect(res.status).toBe(200);
    expect((await storedKeys()).some((f) => f.startsWith(body.id))).toBe(false);
    expect((await download(body.id)).status).toBe(404);
    const [event] = await db.orm.em.fork().execute("select action from audit_events where action = 'ARTIFACT_DELETED' and target_id = ?", [body.id]);
    expect(event).toBeDefined();
  });

  test("deleting a host deletes its artifacts and their files", async () => {
    const host = await trpc<{ id: number; version: number }>(app.url, "hosts.create", {
      mutation: true,
      token: tokens.get("operator"),
      input: { hostname: "doomed.artifacts.test" },
    });
    const a = await upload("one", "one.txt", "operator", host.data!.id);
    expect(a.status).toBe(201);
    expect(await storedKeys(host.data!.id)).toHaveLength(1);
    await trpc(app.url, "hosts.delete", { mutation: true, token: tokens.get("operator"), input: { id: host.data!.id, version: 1 } });
    expect(await storedKeys(host.data!.id)).toHaveLength(0);
    const [row] = await db.orm.em.fork().execute<{ n: string }[]>("select count(*) as n from artifacts where host_id = ?", [host.data!.id]);
    expect(Number(row!.n)).toBe(0);
  });
});
});
