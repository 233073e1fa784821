import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AppServer, startAppServer } from "../support/app-server";
import { createTestDatabase, type TestDatabase } from "../support/database";

/**
 * Bodies read whole (Remix form actions, tRPC JSON) are capped before a byte is read, so
 * one huge request cannot exhaust the server's memory.
 */
let db: TestDatabase;
let app: AppServer;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startAppServer(db);
});
afterAll(async () => {
  await app.close();
  await db.drop();
});

/**
 * Sends headers (declaring `declaredLength`, or chunked when null) and a first piece of
 * the body, and resolves with the answer without sending the rest: a refused body must
 * be answered without being read.
 */
function postDeclaring(path: string, declaredLength: number | null, contentType: string): Promise<{ status: number; body: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const target = new URL(path, app.url);
    const headers: Record<string, string | number> = { "content-type": contentType, origin: app.url };
    if (declaredLength !== null) headers["content-length"] = declaredLength;
    const req = httpRequest({ host: target.hostname, port: target.port, path: target.pathname, method: "POST", agent: false, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection });
      });
    });
    req.on("error", reject);
    req.write("x".repeat(1024));
  });
}

describe("request body limits", () => {
  test("a tRPC call declaring more than twice the import limit is refused 413 in tRPC's error shape, unread", async () => {
    // The default import limit is 20 MB: up to 41 MB of JSON is accepted.
    const res = await postDeclaring("/api/trpc/hosts.importCsv", 50 * 1024 * 1024, "application/json");
    expect(res.status).toBe(413);
    expect(res.connection).toBe("close");
    expect(JSON.parse(res.body)).toMatchObject({ error: { data: { code: "PAYLOAD_TOO_LARGE", httpStatus: 413, path: "hosts.importCsv" } } });
    expect(JSON.parse(res.body).error.message).toMatch(/50\.0 MB.*at most 41\.0 MB/);
  });

  test("a form post to a page declaring more than 1 MiB is refused 413", async () => {
    const res = await postDeclaring("/login", 5 * 1024 * 1024, "application/x-www-form-urlencoded");
    expect(res.status).toBe(413);
    expect(res.body).toMatch(/at most 1\.0 MB/);
  });

  test("a body sent in chunks, without a declared length, is refused 411", async () => {
    const res = await postDeclaring("/api/trpc/auth.login", null, "application/json");
    expect(res.status).toBe(411);
    expect(JSON.parse(res.body)).toMatchObject({ error: { data: { httpStatus: 411 } } });
  });

  test("a tRPC call carrying a CSV of several MB gets through to the procedure (which then asks who is calling)", async () => {
    const csv = `hostname\n${Array.from({ length: 120_000 }, (_, i) => `big-${i}.limit.test`).join("\n")}\n`;
    const body = JSON.stringify({ csv, dryRun: true });
    expect(body.length).toBeGreaterThan(2 * 1024 * 1024);
    const res = await fetch(`${app.url}/api/trpc/hosts.importCsv`, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(res.status).toBe(401);
  });

  test("the import page's own upload is not held to the form limit (it streams with the import limit)", async () => {
    const res = await postDeclaring("/hosts/import", 5 * 1024 * 1024, "multipart/form-data; boundary=x");
    expect(res.status).not.toBe(413);
  });
});
