import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { currentTotpCode, TOTP_STEP_SECONDS } from "../../server/auth/primitives/totp";
import { beginMfaEnrolment, confirmMfaEnrolment } from "../../server/services/mfa.service";
import { runCleanup } from "../../server/services/maintenance.service";
import { type AppServer, startAppServer, trpc } from "../support/app-server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { makeUser } from "../support/identity";

/**
 * Issue 17, defect 1: strangers must not be able to lock an owner out of their account.
 * The account-wide limit counts (and blocks) only clients without a device token from an
 * earlier successful sign-in (OWASP "device cookies").
 */
let db: TestDatabase;
let app: AppServer;
type LoginAnswer = { status: string; accessToken?: string; refreshToken?: string; deviceToken?: string; mfaToken?: string };

beforeAll(async () => {
  db = await createTestDatabase();
  // One trusted proxy hop: every "client" below is an X-Forwarded-For address.
  app = await startAppServer(db, { trustProxy: 1 });
});
afterAll(async () => {
  await app.close();
  await db.drop();
});

let network = 0;
/** A block of 256 addresses of its own for each test, so address limits never overlap. */
function addresses() {
  network += 1;
  return (host: number) => ({ "x-forwarded-for": `2001:db8:${network}::${host}`, "user-agent": `client-${host}` });
}

function login(email: string, password: string, client: Record<string, string>, deviceToken?: string) {
  const input = deviceToken === undefined ? { email, password } : { email, password, deviceToken };
  return trpc<LoginAnswer>(app.url, "auth.login", { mutation: true, input, headers: client });
}

/** Wrong passwords for the account (twenty: the account-wide limit), each from an address of its own. */
async function sprayFromTwentyAddresses(email: string, client: (host: number) => Record<string, string>, count = 20) {
  for (let host = 100; host < 100 + count; host++) {
    expect((await login(email, "not-the-password-at-all", client(host))).status).toBe(401);
  }
}

describe("an attacker spraying one account from many addresses", () => {
  test("does not lock the owner out of a device that signed in before", async () => {
    const client = addresses();
    const owner = await makeUser(db, app, "admin");
    const earlier = await login(owner.email, owner.password, client(1));
    expect(earlier.data).toMatchObject({ status: "ok", deviceToken: expect.any(String) });

    await sprayFromTwentyAddresses(owner.email, client);

    const back = await login(owner.email, owner.password, client(1), earlier.data!.deviceToken);
    expect(back.status).toBe(200);
    expect(back.data).toMatchObject({ status: "ok", accessToken: expect.any(String), refreshToken: expect.stringMatching(/^ort_/) });
    expect((await trpc(app.url, "auth.me", { token: back.data!.accessToken })).status).toBe(200);
  });

  test("still slows every client without a device token, even with the right password", async () => {
    const client = addresses();
    const owner = await makeUser(db, app, "admin");
    await sprayFromTwentyAddresses(owner.email, client);
    const fromNewDevice = await login(owner.email, owner.password, client(1));
    expect(fromNewDevice.status).toBe(429);
    expect(Number(fromNewDevice.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(fromNewDevice.error?.message).toMatch(/Try again in/);
  });

  test("gains nothing from a device token of another account or a forged one", async () => {
    const client = addresses();
    const owner = await makeUser(db, app, "admin");
    const attacker = await makeUser(db, app, "viewer");
    const attackersOwn = (await login(attacker.email, attacker.password, client(2))).data!.deviceToken!;
    await sprayFromTwentyAddresses(owner.email, client);
    const [header, payload] = attackersOwn.split(".");
    for (const token of [attackersOwn, `${header}.${payload}.forged-signature`, "not-a-token"]) {
      expect((await login(owner.email, owner.password, client(3), token)).status).toBe(429);
    }
  });

  test("a device token that failed five times is locked in the database and trusted no more", async () => {
    const client = addresses();
    const owner = await makeUser(db, app, "operator");
    const stolen = (await login(owner.email, owner.password, client(1))).data!.deviceToken!;
    // The thief moves to a new address for every guess, so only the device counter sees them all.
    for (let host = 50; host < 55; host++) {
      expect((await login(owner.email, "a-wrong-guess-with-the-token", client(host), stolen)).status).toBe(401);
    }
    const sixth = await login(owner.email, "a-wrong-guess-with-the-token", client(56), stolen);
    expect(sixth.status).toBe(401);
    const [locked] = await db.orm.em
      .fork()
      .execute<{ user_id: number }[]>("select user_id from locked_device_tokens where user_id = ?", [owner.id]);
    expect(locked).toEqual({ user_id: owner.id });
    const [audit] = await db.orm.em
      .fork()
      .execute<{ n: string }[]>("select count(*) as n from audit_events where action = 'DEVICE_TOKEN_LOCKED' and target_id = ?", [
        String(owner.id),
      ]);
    expect(Number(audit!.n)).toBe(1);

    // The sixth guess already counted as an untrusted client's; nineteen more reach the limit.
    await sprayFromTwentyAddresses(owner.email, client, 19);
    // The locked token is an untrusted client now, subject to the account-wide limit.
    expect((await login(owner.email, owner.password, client(1), stolen)).status).toBe(429);
  });

  test("leaves API tokens working", async () => {
    const client = addresses();
    const owner = await makeUser(db, app, "operator");
    const session = (await login(owner.email, owner.password, client(1))).data!;
    const created = await trpc<{ token: string }>(app.url, "account.tokens.create", {
      mutation: true,
      token: session.accessToken,
      input: { name: "script", expiresInDays: 1 },
    });
    await sprayFromTwentyAddresses(owner.email, client);
    const me = await trpc<{ email: string }>(app.url, "auth.me", { token: created.data!.token, headers: client(1) });
    expect(me.data?.email).toBe(owner.email);
  });
});

describe("browsers keep the device token in a cookie", () => {
  async function formLogin(email: string, password: string, client: Record<string, string>, cookie = "") {
    return fetch(`${app.url}/login?redirectTo=%2Fstatus`, {
      method: "POST",
      redirect: "manual",
      headers: { ...client, origin: app.url, cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ intent: "password", redirectTo: "/status", email, password }),
    });
  }

  test("a sign-in through the form sets it, and the form honours it after a spray", async () => {
    const client = addresses();
    const owner = await makeUser(db, app, "admin");
    const first = await formLogin(owner.email, owner.password, client(1));
    expect(first.status).toBe(302);
    const deviceCookie = first.headers.getSetCookie().find((c) => c.startsWith("opsdesk_dt="));
    expect(deviceCookie).toMatch(/; HttpOnly/);
    expect(deviceCookie).toMatch(/; SameSite=Lax/);
    expect(Number(/Max-Age=(\d+)/.exec(deviceCookie!)![1])).toBeGreaterThan(300 * 24 * 3600);

    await sprayFromTwentyAddresses(owner.email, client);

    const cookie = deviceCookie!.split(";")[0]!;
    const back = await formLogin(owner.email, owner.password, client(1), cookie);
    expect(back.status).toBe(302);
    expect(back.headers.get("location")).toBe("/status");
    const refused = await formLogin(owner.email, owner.password, client(2));
    expect(refused.status).toBe(429);
  });

  test("signing out clears the session cookies but keeps the device token", async () => {
    const client = addresses();
    const owner = await makeUser(db, app, "viewer");
    const first = await formLogin(owner.email, owner.password, client(1));
    const cookie = first.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const page = await (await fetch(`${app.url}/status`, { headers: { ...client(1), cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? "";
    expect(csrf).not.toBe("");
    const cleared = await fetch(`${app.url}/logout`, {
      method: "POST",
      redirect: "manual",
      headers: { ...client(1), origin: app.url, cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf }),
    });
    expect(cleared.status).toBe(302);
    expect(cleared.headers.getSetCookie().some((c) => c.startsWith("opsdesk_at=;"))).toBe(true);
    expect(cleared.headers.getSetCookie().some((c) => c.startsWith("opsdesk_dt="))).toBe(false);
  });
});

describe("two-factor accounts", () => {
  test("the device token comes with the second step, and exempts the password step later", async () => {
    const client = addresses();
    const owner = await makeUser(db, app, "admin");
    const actor = { id: owner.id, email: owner.email, role: owner.role, mfaEnabled: false };
    const noRequest = { ip: null, userAgent: null, requestId: null };
    const { secret } = await beginMfaEnrolment(db.orm.em.fork(), app.runtime.config, actor);
    await confirmMfaEnrolment(db.orm.em.fork(), app.runtime.config, actor, currentTotpCode(secret, new Date(Date.now() - TOTP_STEP_SECONDS * 1000)), noRequest);

    const step = await login(owner.email, owner.password, client(1));
    expect(step.data).toEqual({ status: "mfa_required", mfaToken: expect.any(String) });
    const verified = await trpc<LoginAnswer>(app.url, "auth.verifyMfa", {
      mutation: true,
      input: { mfaToken: step.data!.mfaToken, code: currentTotpCode(secret) },
      headers: client(1),
    });
    expect(verified.data).toMatchObject({ accessToken: expect.any(String), deviceToken: expect.any(String) });

    await sprayFromTwentyAddresses(owner.email, client);
    const again = await login(owner.email, owner.password, client(1), verified.data!.deviceToken);
    expect(again.data).toEqual({ status: "mfa_required", mfaToken: expect.any(String) });
  });
});

describe("the cleanup job", () => {
  test("forgets locked device tokens once they have expired, and keeps the others", async () => {
    const owner = await makeUser(db, app, "viewer");
    const em = db.orm.em.fork();
    await em.execute(
      "insert into locked_device_tokens (nonce, user_id, expires_at) values ('expired-nonce', ?, now() - interval '1 minute'), ('live-nonce', ?, now() + interval '1 day')",
      [owner.id, owner.id],
    );
    const result = await runCleanup(db.orm.em.fork());
    expect(result).toMatchObject({ ran: true, lockedDeviceTokens: 1 });
    const left = await em.execute<{ nonce: string }[]>("select nonce from locked_device_tokens where user_id = ?", [owner.id]);
    expect(left).toEqual([{ nonce: "live-nonce" }]);
  });
});
