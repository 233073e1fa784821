import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AppServer, startAppServer, trpc } from "../support/app-server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { signInAs } from "../support/identity";

let db: TestDatabase;
let app: AppServer;
let operatorToken: string;
let viewerToken: string;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startAppServer(db);
  for (const role of ["operator", "viewer"] as const) {
    const login = await signInAs(db, app, role);
    if (role === "operator") operatorToken = login.accessToken;
    else viewerToken = login.accessToken;
  }
});
afterAll(async () => {
  await app.close();
  await db.drop();
});

/** Sends the CSV as a chunked stream, the way a script uploads a large file. */
function post(csv: string, query: string, token = operatorToken) {
  const bytes = Buffer.from(csv);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 7) controller.enqueue(bytes.subarray(i, i + 7));
      controller.close();
    },
  });
  return fetch(`${app.url}/hosts/import.csv?${query}`, {
    method: "POST",
    body,
    duplex: "half",
    headers: { authorization: `Bearer ${token}`, "content-type": "text/csv" },
  } as RequestInit);
}

describe("POST /hosts/import.csv (streamed body)", () => {
  test("a dry run, then an apply of the stored run, give the procedure's results", async () => {
    const csv = "hostname;ip;tags\nstream-a.import.test;10.9.0.1;web,eu\nstream-b.import.test;10.9.0.2;db\n";
    const dry = await post(csv, "dryRun=true&fileName=fleet.csv");
    expect(dry.status).toBe(200);
    const result = (await dry.json()) as { runId: string; created: number; applied: boolean; sha256: string };
    expect(result).toMatchObject({ created: 2, applied: false });
    expect(result.sha256).toMatch(/^[0-9a-f]{64}$/);
    const applied = await trpc<{ applied: boolean; created: number }>(app.url, "hosts.applyImport", {
      mutation: true,
      token: operatorToken,
      input: { runId: result.runId },
    });
    expect(applied.data).toMatchObject({ applied: true, created: 2 });
  });

  test("an apply with an error writes nothing and lists the error", async () => {
    const res = await post("hostname,port\nok.stream.test,22\nbad.stream.test,99999\n", "dryRun=false");
    const result = (await res.json()) as { applied: boolean; errors: { line: number; column: string }[] };
    expect(result.applied).toBe(false);
    expect(result.errors).toEqual([expect.objectContaining({ line: 3, column: "port" })]);
    const found = await trpc<{ total: number }>(app.url, "hosts.list", { token: operatorToken, input: { q: "ok.stream.test" } });
    expect(found.data!.total).toBe(0);
  });

  test("viewers are refused with 403 and anonymous clients with 401", async () => {
    expect((await post("hostname\nx.stream.test\n", "dryRun=true", viewerToken)).status).toBe(403);
    const anonymous = await fetch(`${app.url}/hosts/import.csv`, {
      method: "POST",
      body: "hostname\n",
      headers: { accept: "application/json" },
    });
    expect(anonymous.status).toBe(401);
  });

  test("a file over the row limit is refused with 413", async () => {
    const rows = Array.from({ length: 5 }, (_, i) => `limit-${i}.stream.test`).join("\n");
    const login = await signInAs(db, app, "admin");
    await trpc(app.url, "settings.update", { mutation: true, token: login.accessToken, input: { "import.maxRows": 3 } });
    try {
      const res = await post(`hostname\n${rows}\n`, "dryRun=true");
      expect(res.status).toBe(413);
    } finally {
      await trpc(app.url, "settings.update", { mutation: true, token: login.accessToken, input: { "import.maxRows": 200_000 } });
    }
  });
});
