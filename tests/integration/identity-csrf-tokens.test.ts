import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { updateUser } from "../../server/services/users.service";
import { type AppServer, startAppServer, trpc } from "../support/app-server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { makeUser, signInAs } from "../support/identity";

let db: TestDatabase;
let app: AppServer;
const noRequest = { ip: null, userAgent: null, requestId: null };

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startAppServer(db, { allowedOrigins: ["https://ops.example.com"] });
});
afterAll(async () => {
  await app.close();
  await db.drop();
});

/** Signs in through the /login form and returns the session cookies and CSRF token. */
async function browserSession(email: string, password: string) {
  const res = await fetch(`${app.url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { origin: app.url, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ intent: "password", email, password, redirectTo: "/status" }),
  });
  expect(res.status).toBe(302);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .filter((c) => !c!.endsWith("="))
    .join("; ");
  const page = await (await fetch(`${app.url}/status`, { headers: { cookie } })).text();
  const csrf = /"csrfToken\\?":\\?"([^"\\]+)/.exec(page)?.[1] ?? /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
  expect(csrf).toBeTruthy();
  return { cookie, csrf: csrf! };
}

async function tokenCount(userId: number) {
  const [row] = await db.orm.em.fork().execute<{ count: string }[]>("select count(*) from api_tokens where user_id = ?", [userId]);
  return Number(row!.count);
}

describe("CSRF protection on cookie sessions", () => {
  test("a cookie-authenticated mutation with the token from our own origin works", async () => {
    const user = await makeUser(db, app, "operator");
    const { cookie, csrf } = await browserSession(user.email, user.password);
    const res = await trpc(app.url, "account.tokens.create", {
      mutation: true,
      input: { name: "from-page", expiresInDays: 1 },
      headers: { cookie, "x-csrf-token": csrf, origin: app.url },
    });
    expect(res.status).toBe(200);
    expect(await tokenCount(user.id)).toBe(1);
  });

  test("without the token the mutation is refused with 403 and nothing changes", async () => {
    const user = await makeUser(db, app, "operator");
    const { cookie } = await browserSession(user.email, user.password);
    const res = await trpc(app.url, "account.tokens.create", {
      mutation: true,
      input: { name: "forged", expiresInDays: 1 },
      headers: { cookie, origin: app.url },
    });
    expect(res.status).toBe(403);
    expect(await tokenCount(user.id)).toBe(0);
  });

  test("a cross-origin request with a valid token is refused with 403 and nothing changes", async () => {
    const user = await makeUser(db, app, "operator");
    const { cookie, csrf } = await browserSession(user.email, user.password);
    const res = await trpc(app.url, "account.tokens.create", {
      mutation: true,
      input: { name: "cross-site", expiresInDays: 1 },
      headers: { cookie, "x-csrf-token": csrf, origin: "https://evil.example.net" },
    });
    expect(res.status).toBe(403);
    expect(await tokenCount(user.id)).toBe(0);
  });

  test("a cross-site form post (FormData, no preflight) cannot use the session", async () => {
    const user = await makeUser(db, app, "operator");
    const { cookie } = await browserSession(user.email, user.password);
    const form = new FormData();
    form.set("name", "formdata");
    const res = await fetch(`${app.url}/api/trpc/account.tokens.create`, {
      method: "POST",
      body: form,
      headers: { cookie, origin: "https://evil.example.net" },
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(await tokenCount(user.id)).toBe(0);
  });

  test("a cross-site sign-out form is refused and the session survives", async () => {
    const user = await makeUser(db, app, "viewer");
    const { cookie } = await browserSession(user.email, user.password);
    const res = await fetch(`${app.url}/logout`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin: "https://evil.example.net", "content-type": "application/x-www-form-urlencoded" },
      body: "",
    });
    expect(res.status).toBe(403);
    const [session] = await db.orm.em.fork().execute("select revoked_at from sessions where user_id = ?", [user.id]);
    expect(session).toMatchObject({ revoked_at: null });
  });

  test("Bearer requests need no CSRF token", async () => {
    const login = await signInAs(db, app, "viewer");
    const res = await trpc(app.url, "account.tokens.create", {
      mutation: true,
      token: login.accessToken,
      input: { name: "script", expiresInDays: 1 },
      headers: { origin: "https://anything.example.org" },
    });
    expect(res.status).toBe(200);
  });
});

describe("CORS", () => {
  test("only configured origins get CORS headers, never with credentials", async () => {
    const allowed = await fetch(`${app.url}/api/trpc/system.info`, { headers: { origin: "https://ops.example.com" } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://ops.example.com");
    expect(allowed.headers.get("access-control-allow-credentials")).toBeNull();
    const other = await fetch(`${app.url}/api/trpc/system.info`, { headers: { origin: "https://evil.example.net" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await fetch(`${app.url}/api/trpc/auth.me`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example.net", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(403);
  });
});

describe("API tokens", () => {
  test("a token acts as its owner with the owner's current role and stops when the owner is disabled", async () => {
    const login = await signInAs(db, app, "admin");
    const user = login.user;
    const created = await trpc<{ token: string; id: string }>(app.url, "account.tokens.create", {
      mutation: true,
      token: login.accessToken,
      input: { name: "script", expiresInDays: 30 },
    });
    const token = created.data!.token;
    expect(token).toMatch(/^odt_[0-9a-f]{8}_/);
    expect((await trpc(app.url, "users.list", { token })).status).toBe(200);

    const other = await makeUser(db, app, "admin"); // so the first is not the last admin
    expect(other.id).toBeGreaterThan(0);
    await updateUser(db.orm.em.fork(), app.runtime.config, { id: null, email: "t" }, { id: user.id, role: "viewer" }, noRequest);
    expect((await trpc(app.url, "users.list", { token })).status).toBe(403);
    expect((await trpc(app.url, "auth.me", { token })).data).toMatchObject({ role: "viewer" });

    await updateUser(db.orm.em.fork(), app.runtime.config, { id: null, email: "t" }, { id: user.id, disabled: true }, noRequest);
    expect((await trpc(app.url, "auth.me", { token })).status).toBe(401);
  });

  test("a revoked token stops working, and the list shows it revoked with a prefix but no secret", async () => {
    const login = await signInAs(db, app, "viewer");
    const access = login.accessToken;
    const created = await trpc<{ token: string; id: string }>(app.url, "account.tokens.create", {
      mutation: true,
      token: access,
      input: { name: "short-lived", expiresInDays: 1 },
    });
    expect((await trpc(app.url, "auth.me", { token: created.data!.token })).status).toBe(200);
    await trpc(app.url, "account.tokens.revoke", { mutation: true, token: access, input: { id: created.data!.id } });
    expect((await trpc(app.url, "auth.me", { token: created.data!.token })).status).toBe(401);
    const list = await trpc<{ items: Record<string, unknown>[] }>(app.url, "account.tokens.list", { token: access });
    expect(list.data!.items[0]).toMatchObject({ name: "short-lived", revokedAt: expect.any(String), lastUsedAt: expect.any(String) });
    expect(JSON.stringify(list.data)).not.toContain(created.data!.token);
  });

  test("an expiry beyond 365 days is refused", async () => {
    const login = await signInAs(db, app, "viewer");
    const res = await trpc(app.url, "account.tokens.create", {
      mutation: true,
      token: login.accessToken,
      input: { name: "forever", expiresInDays: 366 },
    });
    expect(res.status).toBe(400);
  });
});

describe("users admin", () => {
  test("the last active admin can be neither demoted nor disabled", async () => {
    const fresh = await createTestDatabase();
    try {
      const app2 = await startAppServer(fresh);
      try {
        const admin = await makeUser(fresh, app2, "admin");
        await expect(
          updateUser(fresh.orm.em.fork(), app2.runtime.config, { id: admin.id, email: admin.email }, { id: admin.id, role: "operator" }, noRequest),
        ).rejects.toThrow(/last active admin/);
        await expect(
          updateUser(fresh.orm.em.fork(), app2.runtime.config, { id: admin.id, email: admin.email }, { id: admin.id, disabled: true }, noRequest),
        ).rejects.toThrow(/last active admin/);
      } finally {
        await app2.close();
      }
    } finally {
      await fresh.drop();
    }
  });
});
