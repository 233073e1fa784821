import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AppServer, startAppServer, trpc } from "../support/app-server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { makeUser } from "../support/identity";

/**
 * Issue 17, defect 2 (RFC 9700 §4.14.2): a rotated refresh token presented again revokes
 * its whole family, except for the same client within a grace of a couple of seconds
 * (parallel tabs of one browser, two calls of one script racing).
 */
let db: TestDatabase;
let app: AppServer;
type Tokens = { accessToken: string; refreshToken: string; expiresAt: string };

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startAppServer(db, { trustProxy: 1 });
});
afterAll(async () => {
  await app.close();
  await db.drop();
});

const victim = { "x-forwarded-for": "198.51.100.20", "user-agent": "victim-laptop/1.0" };
const thief = { "x-forwarded-for": "203.0.113.66", "user-agent": "thief-tool/6.6" };

async function signIn() {
  const user = await makeUser(db, app, "operator");
  const res = await trpc<Tokens>(app.url, "auth.login", { mutation: true, input: { email: user.email, password: user.password }, headers: victim });
  expect(res.status).toBe(200);
  return { user, tokens: res.data! };
}

const refresh = (refreshToken: string, client: Record<string, string>) =>
  trpc<Tokens>(app.url, "auth.refresh", { mutation: true, input: { refreshToken }, headers: client });

const stillSignedIn = async (tokens: Tokens) => (await trpc(app.url, "auth.me", { token: tokens.accessToken })).status === 200;

async function reuseEvents(userId: number) {
  return db.orm.em
    .fork()
    .execute<{ after: Record<string, unknown>; ip: string | null }[]>(
      "select after, ip from audit_events where action = 'REFRESH_TOKEN_REUSED' and actor_id = ? order by id",
      [userId],
    );
}

describe("a rotated refresh token presented again", () => {
  test("by the victim right after a thief rotated it from another client revokes the family, the thief's tokens too", async () => {
    const { user, tokens } = await signIn();
    const stolen = await refresh(tokens.refreshToken, thief);
    expect(stolen.status).toBe(200);

    const retry = await refresh(tokens.refreshToken, victim);
    expect(retry.status).toBe(401);
    expect(await stillSignedIn(stolen.data!)).toBe(false);
    expect((await refresh(stolen.data!.refreshToken, thief)).status).toBe(401);

    const events = await reuseEvents(user.id);
    expect(events).toHaveLength(1);
    expect(events[0]!.after).toMatchObject({ revoked: "session", sameClient: false });
    expect(events[0]!.ip).toBe(victim["x-forwarded-for"]);
  });

  test("by the same client racing itself is not theft: one call rotates, the other is told so, the session lives", async () => {
    const { user, tokens } = await signIn();
    const [a, b] = await Promise.all([refresh(tokens.refreshToken, victim), refresh(tokens.refreshToken, victim)]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 409]);
    const winner = a.status === 200 ? a : b;
    const loser = a.status === 200 ? b : a;
    expect(loser.error?.message).toMatch(/parallel request/);
    expect(await stillSignedIn(winner.data!)).toBe(true);
    expect((await refresh(winner.data!.refreshToken, victim)).status).toBe(200);
    expect(await reuseEvents(user.id)).toHaveLength(0);
  });

  test("from the same address but another user agent is another client: the family is revoked", async () => {
    const { tokens } = await signIn();
    const first = await refresh(tokens.refreshToken, victim);
    const other = await refresh(tokens.refreshToken, { ...victim, "user-agent": "curl/8.0" });
    expect(other.status).toBe(401);
    expect(await stillSignedIn(first.data!)).toBe(false);
  });

  test("by the same client once the grace of a few seconds has passed revokes the family", async () => {
    const { user, tokens } = await signIn();
    const first = await refresh(tokens.refreshToken, victim);
    expect(first.status).toBe(200);
    await db.orm.em.fork().execute("update refresh_tokens set rotated_at = rotated_at - interval '3 seconds' where rotated_at is not null");

    expect((await refresh(tokens.refreshToken, victim)).status).toBe(401);
    expect(await stillSignedIn(first.data!)).toBe(false);
    const events = await reuseEvents(user.id);
    expect(events[0]!.after).toMatchObject({ revoked: "session", sameClient: true });
  });
});

describe("browser tabs sharing the cookies", () => {
  test("two pages loaded at once with an expired access cookie both stay signed in", async () => {
    const { tokens } = await signIn();
    const load = () =>
      fetch(`${app.url}/status`, { redirect: "manual", headers: { ...victim, cookie: `opsdesk_rt=${tokens.refreshToken}` } });
    const [a, b] = await Promise.all([load(), load()]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const rotatedBy = [a, b].filter((res) => res.headers.getSetCookie().some((c) => c.startsWith("opsdesk_rt=ort_")));
    expect(rotatedBy).toHaveLength(1);
  });
});
