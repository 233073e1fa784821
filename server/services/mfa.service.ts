import type { EntityManager } from "@mikro-orm/postgresql";
import { UserSchema } from "../../db/entities/user.entity";
import type { Config } from "../config";
import { DomainError } from "../errors";
import { qrCodeSvg } from "../auth/primitives/qr-svg";
import { findRecoveryCode, generateRecoveryCodes, hashRecoveryCode } from "../auth/primitives/recovery-codes";
import { newTotpSecret, totpUri, verifyTotp } from "../auth/primitives/totp";
import type { SessionUser } from "../auth/session-user";
import { recoveryPepper, secretBox } from "../auth/tokens";
import { type AuditActor, type AuditRequestInfo, recordAuditEvent } from "./audit.service";
import { consumeRateLimit, POLICIES } from "./rate-limit.service";

const ISSUER = "OpsDesk";
const boxContext = (userId: number) => `totp:user:${userId}`;

export type MfaEnrolment = { secret: string; otpauthUri: string; qrSvg: string };

/** Starts (or shows again) an enrolment: a pending secret, stored sealed until confirmed. */
export async function beginMfaEnrolment(
  em: EntityManager,
  config: Config,
  actor: SessionUser,
  request: AuditRequestInfo | null = null,
): Promise<MfaEnrolment> {
  const user = await em.findOneOrFail(UserSchema, { id: actor.id });
  if (user.mfaEnabled) throw new DomainError("CONFLICT", "Two-factor sign-in is already on. Turn it off first to enrol a new device.");
  const box = secretBox(config.secret);
  let secret = user.mfaPendingSecretEnc ? box.open(user.mfaPendingSecretEnc, boxContext(user.id)) : null;
  if (!secret) {
    secret = newTotpSecret();
    user.mfaPendingSecretEnc = box.seal(secret, boxContext(user.id));
    await em.transactional(async (tx) => {
      await tx.flush();
      await recordAuditEvent(tx, config.secret, {
        actor,
        action: "MFA_ENROLMENT_STARTED",
        targetType: "user",
        targetId: user.id,
        request,
      });
    });
  }
  const otpauthUri = totpUri({ secret, account: user.email, issuer: ISSUER });
  return { secret, otpauthUri, qrSvg: await qrCodeSvg(otpauthUri) };
}

/** The pending enrolment, if one was begun (for pages that render it again). */
export async function pendingMfaEnrolment(em: EntityManager, config: Config, actor: SessionUser): Promise<MfaEnrolment | null> {
  const user = await em.findOneOrFail(UserSchema, { id: actor.id });
  if (user.mfaEnabled || !user.mfaPendingSecretEnc) return null;
  return beginMfaEnrolment(em, config, actor);
}

/** Confirms enrolment with a first code; returns ten recovery codes, shown once. */
export async function confirmMfaEnrolment(
  em: EntityManager,
  config: Config,
  actor: SessionUser,
  code: string,
  request: AuditRequestInfo,
): Promise<{ recoveryCodes: string[] }> {
  await consumeRateLimit(em.fork(), POLICIES.mfa, String(actor.id));
  return em.transactional(async (tx) => {
    const user = await tx.findOneOrFail(UserSchema, { id: actor.id });
    if (user.mfaEnabled) throw new DomainError("CONFLICT", "Two-factor sign-in is already on.");
    if (!user.mfaPendingSecretEnc) throw new DomainError("PRECONDITION_FAILED", "Start the enrolment first.");
    const secret = secretBox(config.secret).open(user.mfaPendingSecretEnc, boxContext(user.id));
    const result = verifyTotp({ secret, code, lastAcceptedStep: null });
    if (!result.ok) {
      throw new DomainError("BAD_REQUEST", "That code does not match. Check the device's clock and try the current code.");
    }
    const recoveryCodes = generateRecoveryCodes();
    const pepper = recoveryPepper(config.secret);
    user.mfaSecretEnc = user.mfaPendingSecretEnc;
    user.mfaPendingSecretEnc = null;
    user.mfaEnabled = true;
    user.mfaLastStep = result.step;
    user.mfaRecoveryHashes = recoveryCodes.map((c) => hashRecoveryCode(c, pepper));
    await tx.flush();
    await recordAuditEvent(tx, config.secret, {
      actor,
      action: "MFA_ENROLLED",
      targetType: "user",
      targetId: user.id,
      before: { mfaEnabled: false },
      after: { mfaEnabled: true, recoveryCodes: recoveryCodes.length },
      request,
    });
    return { recoveryCodes };
  });
}

/**
 * Checks a second factor and burns it: a TOTP step is stored so the same code never
 * works twice; a recovery code is removed. Both updates are conditional, so two
 * concurrent uses of one code cannot both succeed.
 */
export async function verifySecondFactor(
  em: EntityManager,
  config: Config,
  userId: number,
  code: string,
): Promise<{ ok: true; method: "totp" | "recovery" } | { ok: false; reason: "invalid" | "replayed" }> {
  const user = await em.findOneOrFail(UserSchema, { id: userId }, { populate: ["mfaRecoveryHashes"] });
  if (!user.mfaSecretEnc) return { ok: false, reason: "invalid" };
  const trimmed = code.replace(/\s+/g, "");
  if (/^\d{6}$/.test(trimmed)) {
    const secret = secretBox(config.secret).open(user.mfaSecretEnc, boxContext(user.id));
    const result = verifyTotp({ secret, code: trimmed, lastAcceptedStep: user.mfaLastStep ?? null });
    if (!result.ok) return result;
    const updated = await em.execute<{ id: number }[]>(
      "update users set mfa_last_step = ? where id = ? and (mfa_last_step is null or mfa_last_step < ?) returning id",
      [result.step, user.id, result.step],
    );
    return updated.length ? { ok: true, method: "totp" } : { ok: false, reason: "replayed" };
  }
  const hashes = user.mfaRecoveryHashes ?? [];
  const index = findRecoveryCode(code, hashes, recoveryPepper(config.secret));
  if (index < 0) return { ok: false, reason: "invalid" };
  const removed = await em.execute<{ id: number }[]>(
    "update users set mfa_recovery_hashes = array_remove(mfa_recovery_hashes, ?) where id = ? and ? = any(mfa_recovery_hashes) returning id",
    [hashes[index], user.id, hashes[index]],
  );
  return removed.length ? { ok: true, method: "recovery" } : { ok: false, reason: "replayed" };
}

/** Turns MFA off for a user (their own, with a valid code; or an admin's reset). */
export async function clearMfa(
  em: EntityManager,
  config: Config,
  actor: AuditActor,
  userId: number,
  action: "MFA_DISABLED" | "MFA_RESET",
  request: AuditRequestInfo,
): Promise<void> {
  await em.transactional(async (tx) => {
    const user = await tx.findOne(UserSchema, { id: userId });
    if (!user) throw new DomainError("NOT_FOUND", "No such user.");
    const before = { mfaEnabled: user.mfaEnabled };
    user.mfaEnabled = false;
    user.mfaSecretEnc = null;
    user.mfaPendingSecretEnc = null;
    user.mfaLastStep = null;
    user.mfaRecoveryHashes = [];
    await tx.flush();
    await recordAuditEvent(tx, config.secret, {
      actor,
      action,
      targetType: "user",
      targetId: user.id,
      before,
      after: { mfaEnabled: false },
      request,
    });
  });
}

/** Own MFA off: needs a current code, so a stolen session alone cannot remove it. */
export async function disableOwnMfa(
  em: EntityManager,
  config: Config,
  actor: SessionUser,
  code: string,
  request: AuditRequestInfo,
): Promise<void> {
  await consumeRateLimit(em.fork(), POLICIES.mfa, String(actor.id));
  const factor = await verifySecondFactor(em, config, actor.id, code);
  if (!factor.ok) throw new DomainError("BAD_REQUEST", "That code is not valid.");
  await clearMfa(em, config, actor, actor.id, "MFA_DISABLED", request);
}
