import { SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { deriveKey } from "../../../server/auth/primitives/derive-key";
import { createTokenService, InvalidTokenError } from "../../../server/auth/primitives/jwt";

const SECRET = "test-secret-that-is-long-enough-0123456789";
const OTHER_SECRET = "another-secret-that-is-long-enough-987654";
const START = new Date("2025-01-01T00:00:00Z");

function serviceAt(clock: { now: Date }, secret = SECRET, overrides: { issuer?: string; audience?: string } = {}) {
  return createTokenService({ secret, now: () => clock.now, ...overrides });
}

const accessInput = { userId: 42, sessionId: "session-1", tokenVersion: 3 };

async function expectRejected(promise: Promise<unknown>, reason: "expired" | "invalid" = "invalid") {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  expect((error as InvalidTokenError).reason).toBe(reason);
}

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

describe("access tokens", () => {
  it("round-trip the user, session and token version", async () => {
    const clock = { now: START };
    const tokens = serviceAt(clock);
    const { token, expiresAt } = await tokens.signAccessToken(accessInput, 900);

    const claims = await tokens.verifyAccessToken(token);

    expect(claims).toMatchObject(accessInput);
    expect(claims.tokenId).toEqual(expect.any(String));
    expect(expiresAt.toISOString()).toBe("2025-01-01T00:15:00.000Z");
    expect(claims.expiresAt).toEqual(expiresAt);
  });

  it("carry a null session id for sessionless logins", async () => {
    const tokens = serviceAt({ now: START });
    const { token } = await tokens.signAccessToken({ ...accessInput, sessionId: null }, 60);
    expect((await tokens.verifyAccessToken(token)).sessionId).toBeNull();
  });

  it("are stamped with HS256, the access typ, issuer and audience", async () => {
    const { token } = await serviceAt({ now: START }).signAccessToken(accessInput, 60);
    const [header, payload] = token.split(".").slice(0, 2).map((part) => JSON.parse(Buffer.from(part, "base64url").toString()));
    expect(header).toEqual({ alg: "HS256", typ: "access+jwt" });
    expect(payload).toMatchObject({ iss: "opsdesk", aud: "opsdesk", typ: "access", sub: "42" });
  });

  it("are rejected as expired once their lifetime has passed", async () => {
    const clock = { now: START };
    const tokens = serviceAt(clock);
    const { token } = await tokens.signAccessToken(accessInput, 60);

    clock.now = new Date(START.getTime() + 60_000);

    await expectRejected(tokens.verifyAccessToken(token), "expired");
  });

  it("are rejected when signed with another secret", async () => {
    const { token } = await serviceAt({ now: START }, OTHER_SECRET).signAccessToken(accessInput, 60);
    await expectRejected(serviceAt({ now: START }).verifyAccessToken(token));
  });

  it("are rejected when issued for another audience", async () => {
    const { token } = await serviceAt({ now: START }, SECRET, { audience: "elsewhere" }).signAccessToken(accessInput, 60);
    await expectRejected(serviceAt({ now: START }).verifyAccessToken(token));
  });

  it("are rejected when issued by another issuer", async () => {
    const { token } = await serviceAt({ now: START }, SECRET, { issuer: "elsewhere" }).signAccessToken(accessInput, 60);
    await expectRejected(serviceAt({ now: START }).verifyAccessToken(token));
  });

  it('are rejected with alg "none" and no signature', async () => {
    const now = Math.floor(START.getTime() / 1000);
    const unsigned = [
      base64urlJson({ alg: "none", typ: "access+jwt" }),
      base64urlJson({ sub: "42", sid: null, tv: 0, typ: "access", jti: "x", iss: "opsdesk", aud: "opsdesk", iat: now, exp: now + 60 }),
      "",
    ].join(".");
    await expectRejected(serviceAt({ now: START }).verifyAccessToken(unsigned));
  });

  it("are rejected when signed with a different HMAC algorithm, even with the right key", async () => {
    const token = await new SignJWT({ sid: null, tv: 0, typ: "access" })
      .setProtectedHeader({ alg: "HS512", typ: "access+jwt" })
      .setSubject("42")
      .setIssuer("opsdesk")
      .setAudience("opsdesk")
      .setJti("x")
      .setIssuedAt(START)
      .setExpirationTime(new Date(START.getTime() + 60_000))
      .sign(deriveKey(SECRET, "jwt-signing"));
    await expectRejected(serviceAt({ now: START }).verifyAccessToken(token));
  });

  it("are rejected without an expiry, even when correctly signed", async () => {
    const token = await new SignJWT({ sid: null, tv: 0, typ: "access" })
      .setProtectedHeader({ alg: "HS256", typ: "access+jwt" })
      .setSubject("42")
      .setIssuer("opsdesk")
      .setAudience("opsdesk")
      .setJti("x")
      .sign(deriveKey(SECRET, "jwt-signing"));
    await expectRejected(serviceAt({ now: START }).verifyAccessToken(token));
  });

  it.each([
    ["header says mfa, claim says access", "mfa+jwt", "access"],
    ["header says access, claim says mfa", "access+jwt", "mfa"],
    ["header has no typ", undefined, "access"],
  ])("are rejected when the typ does not match (%s)", async (_label, headerTyp, claimTyp) => {
    const token = await new SignJWT({ sid: null, tv: 0, typ: claimTyp })
      .setProtectedHeader(headerTyp ? { alg: "HS256", typ: headerTyp } : { alg: "HS256" })
      .setSubject("42")
      .setIssuer("opsdesk")
      .setAudience("opsdesk")
      .setJti("x")
      .setIssuedAt(START)
      .setExpirationTime(new Date(START.getTime() + 60_000))
      .sign(deriveKey(SECRET, "jwt-signing"));
    await expectRejected(serviceAt({ now: START }).verifyAccessToken(token));
  });

  it("are rejected when the subject is not a canonical user id", async () => {
    const token = await new SignJWT({ sid: null, tv: 0, typ: "access" })
      .setProtectedHeader({ alg: "HS256", typ: "access+jwt" })
      .setSubject("042")
      .setIssuer("opsdesk")
      .setAudience("opsdesk")
      .setJti("x")
      .setIssuedAt(START)
      .setExpirationTime(new Date(START.getTime() + 60_000))
      .sign(deriveKey(SECRET, "jwt-signing"));
    await expectRejected(serviceAt({ now: START }).verifyAccessToken(token));
  });

  it("are rejected when a signed payload has been edited", async () => {
    const { token } = await serviceAt({ now: START }).signAccessToken(accessInput, 60);
    const [header, , signature] = token.split(".");
    const forgedPayload = base64urlJson({ sub: "1", sid: null, tv: 3, typ: "access", iss: "opsdesk", aud: "opsdesk", jti: "x", exp: 4102444800 });
    await expectRejected(serviceAt({ now: START }).verifyAccessToken(`${header}.${forgedPayload}.${signature}`));
  });

  it.each(["", "garbage", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9.e30."])("are rejected when the token is garbage (%j)", async (garbage) => {
    await expectRejected(serviceAt({ now: START }).verifyAccessToken(garbage));
  });

  it("cannot be used as an MFA-pending token", async () => {
    const tokens = serviceAt({ now: START });
    const { token } = await tokens.signAccessToken(accessInput, 60);
    await expectRejected(tokens.verifyMfaToken(token));
  });

  it("refuse a non-positive or fractional lifetime", async () => {
    const tokens = serviceAt({ now: START });
    await expect(tokens.signAccessToken(accessInput, 0)).rejects.toThrow(RangeError);
    await expect(tokens.signAccessToken(accessInput, 1.5)).rejects.toThrow(RangeError);
    await expect(tokens.signMfaToken({ userId: 7 }, -5)).rejects.toThrow(RangeError);
  });
});

describe("verified access tokens are remembered", () => {
  // Only this suite's own spy is restored: the test setup's console spy stays in place.
  let verify: ReturnType<typeof spyOnVerify> | undefined;
  const spyOnVerify = () => vi.spyOn(crypto.subtle, "verify");
  afterEach(() => {
    verify?.mockRestore();
    verify = undefined;
  });

  it("a second check of the same token skips the signature check and gives the same claims", async () => {
    const clock = { now: START };
    const tokens = serviceAt(clock);
    const { token } = await tokens.signAccessToken(accessInput, 900);
    const first = await tokens.verifyAccessToken(token);
    verify = spyOnVerify();

    const second = await tokens.verifyAccessToken(token);

    expect(verify).not.toHaveBeenCalled();
    expect(second).toEqual(first);
  });

  it("a remembered token is still rejected as expired once its lifetime has passed", async () => {
    const clock = { now: START };
    const tokens = serviceAt(clock);
    const { token } = await tokens.signAccessToken(accessInput, 60);
    await tokens.verifyAccessToken(token);

    clock.now = new Date(START.getTime() + 59_999);
    await expect(tokens.verifyAccessToken(token)).resolves.toMatchObject(accessInput);
    clock.now = new Date(START.getTime() + 60_000);
    await expectRejected(tokens.verifyAccessToken(token), "expired");
  });

  it("an edited copy of a remembered token is checked, and rejected", async () => {
    const clock = { now: START };
    const tokens = serviceAt(clock);
    const { token } = await tokens.signAccessToken(accessInput, 900);
    await tokens.verifyAccessToken(token);
    const [header, payload, signature] = token.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const edited = [header, base64urlJson({ ...claims, sub: "1" }), signature].join(".");

    await expectRejected(tokens.verifyAccessToken(edited));
  });

  it("keeps at most its capacity: the oldest token is checked again", async () => {
    const clock = { now: START };
    const tokens = createTokenService({ secret: SECRET, now: () => clock.now, verifiedCacheSize: 2 });
    const signed = await Promise.all([1, 2, 3].map((userId) => tokens.signAccessToken({ ...accessInput, userId }, 900)));
    for (const { token } of signed) await tokens.verifyAccessToken(token);
    verify = spyOnVerify();

    await tokens.verifyAccessToken(signed[2]!.token);
    await tokens.verifyAccessToken(signed[1]!.token);
    expect(verify).not.toHaveBeenCalled();
    await expect(tokens.verifyAccessToken(signed[0]!.token)).resolves.toMatchObject({ userId: 1 });
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it("remembers nothing with a capacity of 0", async () => {
    const clock = { now: START };
    const tokens = createTokenService({ secret: SECRET, now: () => clock.now, verifiedCacheSize: 0 });
    const { token } = await tokens.signAccessToken(accessInput, 900);
    await tokens.verifyAccessToken(token);
    verify = spyOnVerify();

    await tokens.verifyAccessToken(token);

    expect(verify).toHaveBeenCalledTimes(1);
  });
});

describe("MFA-pending tokens", () => {
  it("round-trip the user id", async () => {
    const tokens = serviceAt({ now: START });
    const { token, expiresAt } = await tokens.signMfaToken({ userId: 7 }, 300);
    const claims = await tokens.verifyMfaToken(token);
    expect(claims.userId).toBe(7);
    expect(claims.expiresAt).toEqual(expiresAt);
  });

  it("get a distinct token id each time, so callers can burn one after use", async () => {
    const tokens = serviceAt({ now: START });
    const first = await tokens.verifyMfaToken((await tokens.signMfaToken({ userId: 7 }, 300)).token);
    const second = await tokens.verifyMfaToken((await tokens.signMfaToken({ userId: 7 }, 300)).token);
    expect(first.tokenId).not.toBe(second.tokenId);
  });

  it("cannot be used as access tokens", async () => {
    const tokens = serviceAt({ now: START });
    const { token } = await tokens.signMfaToken({ userId: 7 }, 300);
    await expectRejected(tokens.verifyAccessToken(token));
  });

  it("are rejected as expired once their lifetime has passed", async () => {
    const clock = { now: START };
    const tokens = serviceAt(clock);
    const { token } = await tokens.signMfaToken({ userId: 7 }, 300);
    clock.now = new Date(START.getTime() + 301_000);
    await expectRejected(tokens.verifyMfaToken(token), "expired");
  });

  it("are rejected when signed with another secret", async () => {
    const { token } = await serviceAt({ now: START }, OTHER_SECRET).signMfaToken({ userId: 7 }, 300);
    await expectRejected(serviceAt({ now: START }).verifyMfaToken(token));
  });
});

describe("the token service", () => {
  it("refuses a secret too short to resist offline guessing", () => {
    expect(() => createTokenService({ secret: "short" })).toThrow(RangeError);
  });

  it("never puts the token in its error message", async () => {
    const { token } = await serviceAt({ now: START }, OTHER_SECRET).signAccessToken(accessInput, 60);
    const error = await serviceAt({ now: START })
      .verifyAccessToken(token)
      .catch((caught: unknown) => caught);
    expect(String(error)).not.toContain(token);
  });
});
