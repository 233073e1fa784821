import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { type S3TestServer, startS3Server } from "../support/s3-server";
import { spawnServer, waitForReady } from "../support/server-process";
import { makeTempDir } from "../support/temp-dir";

/**
 * The real production entry with ARTIFACT_STORE=s3: a usable bucket boots and serves
 * uploads from the bucket; a wrong bucket or wrong keys stop the process at boot with a
 * message naming the variable to fix, instead of failing at the first upload.
 */
let db: TestDatabase;
let s3: S3TestServer;

beforeAll(async () => {
  db = await createTestDatabase();
  s3 = await startS3Server("boot-bucket");
});
afterAll(async () => {
  await s3?.close();
  await db?.drop();
});

function s3Env(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: db.url,
    OPSDESK_DATA_DIR: makeTempDir("opsdesk-s3-boot-"),
    OPSDESK_SECRET: "boot-secret-boot-secret-boot-secret-0123",
    OPSDESK_ADMIN_EMAIL: "admin@s3.test",
    OPSDESK_ADMIN_PASSWORD: "correct-horse-battery",
    ARTIFACT_STORE: "s3",
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    S3_REGION: s3.region,
    S3_FORCE_PATH_STYLE: "1",
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    ...overrides,
  };
}

describe("starting with ARTIFACT_STORE=s3", () => {
  test("a reachable bucket boots, and an upload lands in the bucket, not on the local disk", async () => {
    const server = await spawnServer(s3Env());
    try {
      await waitForReady(server);
      expect(server.output()).toContain('"artifactStore":"s3"');
      const login = await fetch(`${server.url}/api/trpc/auth.login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "admin@s3.test", password: "correct-horse-battery" }),
      });
      const token = ((await login.json()) as { result: { data: { accessToken: string } } }).result.data.accessToken;
      const auth = { authorization: `Bearer ${token}` };
      const created = await fetch(`${server.url}/api/trpc/hosts.create`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ hostname: "boot.s3.test" }),
      });
      const hostId = ((await created.json()) as { result: { data: { id: number } } }).result.data.id;
      const form = new FormData();
      form.set("file", new Blob([new TextEncoder().encode("in the bucket")]), "note.txt");
      const uploaded = await fetch(`${server.url}/artifacts/${hostId}/artifacts`, { method: "POST", body: form, headers: auth });
      expect(uploaded.status).toBe(201);
      const { id } = (await uploaded.json()) as { id: string };
      expect(await s3.listKeys()).toContain(`host_${hostId}/${id}.txt`);
      const downloaded = await fetch(`${server.url}/artifacts/${id}/download`, { headers: auth });
      expect(await downloaded.text()).toBe("in the bucket");
    } finally {
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    }
  }, 60_000);

  test.each([
    ["a bucket that does not exist", { S3_BUCKET: "no-such-bucket" }, /S3_BUCKET: bucket "no-such-bucket" does not exist/],
    ["an endpoint nobody listens on", { S3_ENDPOINT: "http://127.0.0.1:9" }, /S3_ENDPOINT: the object store cannot be reached[\s\S]*OpsDesk did not start/],
    ["a missing secret key", { S3_SECRET_ACCESS_KEY: "" }, /S3_SECRET_ACCESS_KEY: is required when S3_ACCESS_KEY_ID is set/],
  ])("%s stops the boot with a message naming the variable", async (_case, overrides, message) => {
    const server = await spawnServer(s3Env(overrides));
    const code = await Promise.race([server.exited, new Promise((r) => setTimeout(() => r("still running"), 45_000))]);
    if (code === "still running") server.child.kill("SIGKILL");
    expect(code).toBe(1);
    expect(server.output()).toMatch(message);
  }, 60_000);
});
