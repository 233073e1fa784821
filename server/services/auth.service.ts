import type { EntityManager } from "@mikro-orm/postgresql";
import { UserSchema } from "../../db/entities/user.entity";
import type { Config } from "../config";
import { DomainError } from "../errors";
import { dummyPasswordHash, verifyPassword } from "../auth/password";
import { MFA_TOKEN_TTL_SECONDS, tokenService } from "../auth/tokens";
import { type AuditRequestInfo, recordAuditEvent } from "./audit.service";
import { verifySecondFactor } from "./mfa.service";
import { type DeviceClaims, DEVICE_TOKEN_TTL_SECONDS, issueDeviceToken, verifyDeviceToken } from "../auth/device-token";
import { consumeRateLimit, POLICIES, RateLimitedError, refundRateLimit, resetRateLimit } from "./rate-limit.service";
import { createSession, type SessionTokens } from "./sessions.service";

export type LoginResult =
  | ({ status: "ok"; deviceToken: string } & SessionTokens)
  | { status: "mfa_required"; mfaToken: string };

/** One message for every failure: it must not tell which accounts exist. */
const WRONG_CREDENTIALS = "Email or password is incorrect, or the account is disabled.";

export async function login(
  em: EntityManager,
  config: Config,
  input: { email: string; password: string; deviceToken?: string | null },
  request: AuditRequestInfo,
): Promise<LoginResult> {
  const email = input.email.trim().toLowerCase();
  const ip = request.ip ?? "unknown";
  // Limits first: an attacker must not be able to buy argon2 time past them.
  const limiter = em.fork();
  await consumeRateLimit(limiter, POLICIES.loginIp, ip);
  await consumeRateLimit(limiter, POLICIES.loginAccountIp, `${email}|${ip}`);
  // A client that signed in to this account before is exempt from the account-wide
  // limit; everyone else shares it (OWASP device cookies, ADR 019).
  const device = await trustedDevice(limiter, config, input.deviceToken, email);
  if (!device) await consumeRateLimit(limiter, POLICIES.loginAccount, email);

  const user = await em.findOne(UserSchema, { email }, { populate: ["passwordHash"] });
  // Unknown emails cost the same argon2 verification as known ones.
  const passwordOk = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), input.password);
  if (!user || !passwordOk || user.disabled) {
    await recordAuditEvent(em.fork(), config.secret, {
      actor: { id: user?.id ?? null, email },
      action: "LOGIN_FAILED",
      targetType: "user",
      targetId: user?.id ?? null,
      outcome: "failure",
      after: { reason: !user ? "unknown-email" : user.disabled ? "disabled" : "wrong-password" },
      request,
    });
    if (device) await countDeviceFailure(limiter, config, device, email, request);
    throw new DomainError("UNAUTHORIZED", WRONG_CREDENTIALS);
  }
  // Only failures count against the limits.
  await resetRateLimit(limiter, POLICIES.loginAccountIp, `${email}|${ip}`);
  await refundRateLimit(limiter, POLICIES.loginIp, ip);
  if (device) await resetRateLimit(limiter, POLICIES.loginDevice, device.nonce);
  else await refundRateLimit(limiter, POLICIES.loginAccount, email);

  if (user.mfaEnabled) {
    const mfa = await tokenService(config.secret).signMfaToken({ userId: user.id }, MFA_TOKEN_TTL_SECONDS);
    return { status: "mfa_required", mfaToken: mfa.token };
  }
  return em.transactional(async (tx) => {
    const tokens = await createSession(tx, config, user, request);
    await recordAuditEvent(tx, config.secret, {
      actor: { id: user.id, email: user.email },
      action: "LOGIN_SUCCEEDED",
      targetType: "user",
      targetId: user.id,
      after: { mfa: false, session: tokens.sessionId },
      request,
    });
    return { status: "ok" as const, ...tokens, deviceToken: await issueDeviceToken(config.secret, user) };
  });
}

/** A device token valid for this account and not locked, or null (then the client is untrusted). */
async function trustedDevice(em: EntityManager, config: Config, token: string | null | undefined, email: string) {
  const claims = await verifyDeviceToken(config.secret, token, email);
  if (!claims) return null;
  const [locked] = await em.execute("select 1 from locked_device_tokens where nonce = ?", [claims.nonce]);
  return locked ? null : claims;
}

/**
 * A wrong password presented with a device token counts against that token alone; at the
 * limit the token is locked (in PostgreSQL, audited) and its holder is untrusted from then on.
 */
async function countDeviceFailure(
  em: EntityManager,
  config: Config,
  device: DeviceClaims,
  email: string,
  request: AuditRequestInfo,
): Promise<void> {
  const state = await consumeRateLimit(em, POLICIES.loginDevice, device.nonce).catch((error: unknown) => {
    if (error instanceof RateLimitedError) return error.state;
    throw error;
  });
  if (state.remaining > 0) return;
  await em.transactional(async (tx) => {
    const inserted = await tx.execute<{ nonce: string }[]>(
      `insert into locked_device_tokens (nonce, user_id, expires_at)
         values (?, ?, now() + make_interval(secs => ?)) on conflict (nonce) do nothing returning nonce`,
      [device.nonce, device.userId, DEVICE_TOKEN_TTL_SECONDS],
    );
    if (inserted.length === 0) return;
    await recordAuditEvent(tx, config.secret, {
      actor: { id: device.userId, email },
      action: "DEVICE_TOKEN_LOCKED",
      targetType: "user",
      targetId: device.userId,
      outcome: "denied",
      after: { reason: "too-many-failures", failures: state.limit },
      request,
    });
  });
}

/** The second step: a TOTP code (or a recovery code) for an MFA-pending login. */
export async function completeMfaLogin(
  em: EntityManager,
  config: Config,
  input: { mfaToken: string; code: string },
  request: AuditRequestInfo,
): Promise<SessionTokens & { deviceToken: string }> {
  let userId: number;
  try {
    userId = (await tokenService(config.secret).verifyMfaToken(input.mfaToken)).userId;
  } catch {
    throw new DomainError("UNAUTHORIZED", "The sign-in step expired. Enter your email and password again.");
  }
  await consumeRateLimit(em.fork(), POLICIES.mfa, String(userId));
  const user = await em.findOne(UserSchema, { id: userId });
  if (!user || user.disabled || !user.mfaEnabled) {
    throw new DomainError("UNAUTHORIZED", "The sign-in step expired. Enter your email and password again.");
  }
  const factor = await verifySecondFactor(em, config, user.id, input.code);
  if (!factor.ok) {
    await recordAuditEvent(em.fork(), config.secret, {
      actor: { id: user.id, email: user.email },
      action: "MFA_FAILED",
      targetType: "user",
      targetId: user.id,
      outcome: "failure",
      after: { reason: factor.reason },
      request,
    });
    throw new DomainError(
      "UNAUTHORIZED",
      factor.reason === "replayed" ? "That code was already used. Wait for the next one." : "That code is not valid.",
    );
  }
  return em.transactional(async (tx) => {
    const tokens = await createSession(tx, config, user, request);
    await recordAuditEvent(tx, config.secret, {
      actor: { id: user.id, email: user.email },
      action: "LOGIN_SUCCEEDED",
      targetType: "user",
      targetId: user.id,
      after: { mfa: factor.method, session: tokens.sessionId },
      request,
    });
    return { ...tokens, deviceToken: await issueDeviceToken(config.secret, user) };
  });
}
