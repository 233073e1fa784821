import type { EntityManager } from "@mikro-orm/postgresql";
import { UserSchema } from "../../db/entities/user.entity";
import type { Config } from "../config";
import { DomainError } from "../errors";
import { dummyPasswordHash, verifyPassword } from "../auth/password";
import { MFA_TOKEN_TTL_SECONDS, tokenService } from "../auth/tokens";
import { type AuditRequestInfo, recordAuditEvent } from "./audit.service";
import { verifySecondFactor } from "./mfa.service";
import { consumeRateLimit, POLICIES, refundRateLimit, resetRateLimit } from "./rate-limit.service";
import { createSession, type SessionTokens } from "./sessions.service";

export type LoginResult =
  | ({ status: "ok" } & SessionTokens)
  | { status: "mfa_required"; mfaToken: string };

/** One message for every failure: it must not tell which accounts exist. */
const WRONG_CREDENTIALS = "Email or password is incorrect, or the account is disabled.";

export async function login(
  em: EntityManager,
  config: Config,
  input: { email: string; password: string },
  request: AuditRequestInfo,
): Promise<LoginResult> {
  const email = input.email.trim().toLowerCase();
  const ip = request.ip ?? "unknown";
  // Limits first: an attacker must not be able to buy argon2 time past them.
  const limiter = em.fork();
  await consumeRateLimit(limiter, POLICIES.loginIp, ip);
  await consumeRateLimit(limiter, POLICIES.loginAccountIp, `${email}|${ip}`);
  await consumeRateLimit(limiter, POLICIES.loginAccount, email);

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
    throw new DomainError("UNAUTHORIZED", WRONG_CREDENTIALS);
  }
  // Only failures count against the limits.
  await resetRateLimit(limiter, POLICIES.loginAccountIp, `${email}|${ip}`);
  await refundRateLimit(limiter, POLICIES.loginIp, ip);
  await refundRateLimit(limiter, POLICIES.loginAccount, email);

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
    return { status: "ok" as const, ...tokens };
  });
}

/** The second step: a TOTP code (or a recovery code) for an MFA-pending login. */
export async function completeMfaLogin(
  em: EntityManager,
  config: Config,
  input: { mfaToken: string; code: string },
  request: AuditRequestInfo,
): Promise<SessionTokens> {
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
    return tokens;
  });
}
