import { generateSecret, generateSync, generateURI, verifySync } from "otplib";

/**
 * TOTP with the parameters every authenticator app supports (SHA-1, 6 digits,
 * 30-second steps). Replay protection is the caller's half of the contract:
 * store the returned `step` and pass it back as `lastAcceptedStep` next time.
 */
export const TOTP_STEP_SECONDS = 30;

// ±1 step absorbs phone clock drift and a code typed just as it rolls over,
// while keeping a guessed code valid for at most 90 seconds.
const TOLERANCE_SECONDS = TOTP_STEP_SECONDS;

const CODE_PATTERN = /^[0-9]{6}$/;

export type TotpVerification = { ok: true; step: number } | { ok: false; reason: "invalid" | "replayed" };

export interface VerifyTotpInput {
  /** Base32 secret, as returned by newTotpSecret (after opening it from storage). */
  secret: string;
  /** What the user typed; spaces (as apps display "123 456") are ignored. */
  code: string;
  /** The step of the last code this user had accepted, or null if none yet. */
  lastAcceptedStep: number | null;
  now?: Date;
}

/** A fresh 160-bit secret, Base32-encoded (the size RFC 4226 recommends for SHA-1). */
export function newTotpSecret(): string {
  return generateSecret();
}

/** The otpauth:// URI an authenticator app scans. */
export function totpUri(input: { secret: string; account: string; issuer: string }): string {
  return generateURI({ issuer: input.issuer, label: input.account, secret: input.secret });
}

export function verifyTotp(input: VerifyTotpInput): TotpVerification {
  const code = input.code.replace(/\s/g, "");
  if (!CODE_PATTERN.test(code)) return { ok: false, reason: "invalid" };

  const { lastAcceptedStep } = input;
  if (lastAcceptedStep !== null && (!Number.isSafeInteger(lastAcceptedStep) || lastAcceptedStep < 0)) {
    throw new RangeError("lastAcceptedStep must be a non-negative integer or null.");
  }

  const epoch = toEpochSeconds(input.now ?? new Date());
  const newestStepInWindow = Math.floor((epoch + TOLERANCE_SECONDS) / TOTP_STEP_SECONDS);

  // otplib skips steps <= afterTimeStep itself (and refuses a floor beyond the
  // window), so a match here is always a code never accepted before.
  const everyStepUsed = lastAcceptedStep !== null && lastAcceptedStep >= newestStepInWindow;
  const freshStep = everyStepUsed ? null : matchingStep(input.secret, code, epoch, lastAcceptedStep ?? undefined);
  if (freshStep !== null) return { ok: true, step: freshStep };

  // Tell a reused code apart from a wrong one: the first is worth auditing differently.
  if (lastAcceptedStep !== null && matchingStep(input.secret, code, epoch, undefined) !== null) {
    return { ok: false, reason: "replayed" };
  }
  return { ok: false, reason: "invalid" };
}

/** The code an authenticator would show at `now`; for tests and local tooling. */
export function currentTotpCode(secret: string, now: Date = new Date()): string {
  return generateSync({ secret, epoch: toEpochSeconds(now) });
}

function matchingStep(secret: string, code: string, epoch: number, afterTimeStep: number | undefined): number | null {
  const result = verifySync({ secret, token: code, epoch, epochTolerance: TOLERANCE_SECONDS, afterTimeStep });
  // otplib's result type is shared with HOTP; only a TOTP match carries `timeStep`.
  return result.valid && "timeStep" in result ? result.timeStep : null;
}

function toEpochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
