import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AppServer, startAppServer, trpc } from "../support/app-server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { makeUser, signInAs } from "../support/identity";

/*
 * An upload sent as a plain browser form post (cookie session, CSRF field, no JavaScript)
 * always comes back to the host page with `?artifact=<outcome>`, refused or not, so the
 * page can say what happened; an API client asking for JSON still gets the status and
 * message. Real PostgreSQL, the local artifact store.
 */
let db: TestDatabase;
let app: AppServer;
let adminToken: string;
let hostId: number;
let browser: { cookie: string; csrf: string };

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startAppServer(db);
  adminToken = (await signInAs(db, app, "admin")).accessToken;
  const host = await trpc<{ id: number }>(app.url, "hosts.create", {
    mutation: true,
    token: adminToken,
    input: { hostname: "form-post.artifacts.test" },
  });
  hostId = host.data!.id;
  const operator = await makeUser(db, app, "operator");
  browser = await browserSession(operator.email, operator.password);
});
afterAll(async () => {
  await app.close();
  await db.drop();
});

/** Signs in through the /login form; returns the session cookies and the page's CSRF token. */
async function browserSession(email: string, password: string) {
  const res = await fetch(`${app.url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { origin: app.url, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ intent: "password", email, password, redirectTo: `/hosts/${hostId}` }),
  });
  expect(res.status).toBe(302);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .filter((c) => !c!.endsWith("="))
    .join("; ");
  const page = await (await fetch(`${app.url}/hosts/${hostId}`, { headers: { cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
  expect(csrf).toBeTruthy();
  return { cookie, csrf: csrf! };
}

/** The body a browser sends for the upload form: the CSRF field first, then the file. */
function formPost(file: { bytes: Buffer; name: string } | null, csrf = browser.csrf, accept = "text/html") {
  const form = new FormData();
  form.set("_csrf", csrf);
  if (file) form.set("file", new Blob([new Uint8Array(file.bytes)]), file.name);
  return fetch(`${app.url}/artifacts/${hostId}/artifacts`, {
    method: "POST",
    body: form,
    redirect: "manual",
    headers: { cookie: browser.cookie, origin: app.url, accept },
  });
}

async function rowCount(): Promise<number> {
  const [row] = await db.orm.em.fork().execute<{ n: string }[]>("select count(*) as n from artifacts where host_id = ?", [hostId]);
  return Number(row!.n);
}

async function setLimit(bytes: number) {
  await trpc(app.url, "settings.update", { mutation: true, token: adminToken, input: { "artifacts.maxBytes": bytes } });
}

describe("a browser's form post comes back to the host page", () => {
  test("a stored file: 303 to ?artifact=uploaded", async () => {
    const res = await formPost({ bytes: Buffer.from("hello\n"), name: "hello.txt" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/hosts/${hostId}?artifact=uploaded#artifacts`);
    expect(await rowCount()).toBe(1);
  });

  test("a file over the limit: 303 to ?artifact=too_large, nothing stored", async () => {
    await setLimit(1024);
    try {
      const before = await rowCount();
      const res = await formPost({ bytes: Buffer.alloc(4096, 1), name: "big.bin" });
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe(`/hosts/${hostId}?artifact=too_large#artifacts`);
      expect(await rowCount()).toBe(before);
    } finally {
      await setLimit(1_073_741_824);
    }
  });

  test("a stale or forged CSRF field: 303 to ?artifact=refused, nothing stored", async () => {
    const before = await rowCount();
    const res = await formPost({ bytes: Buffer.from("x"), name: "x.txt" }, "not-the-token");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/hosts/${hostId}?artifact=refused#artifacts`);
    expect(await rowCount()).toBe(before);
  });

  test("no file field: 303 to ?artifact=no_file", async () => {
    const res = await formPost(null);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/hosts/${hostId}?artifact=no_file#artifacts`);
  });

  test("the same refusal asked for as JSON is still a 413 with the message", async () => {
    await setLimit(1024);
    try {
      const res = await formPost({ bytes: Buffer.alloc(4096, 1), name: "big.bin" }, browser.csrf, "application/json");
      expect(res.status).toBe(413);
      const body = (await res.json()) as { error: { status: number; message: string } };
      expect(body.error).toEqual({ status: 413, message: "The file is larger than the upload limit of 1024 bytes." });
    } finally {
      await setLimit(1_073_741_824);
    }
  });
});
