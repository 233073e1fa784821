import type { AppLoadContext } from "@remix-run/node";
import type { SessionUser } from "../../server/auth/session-user";
import { pendingMfaEnrolment } from "../../server/services/mfa.service";

/**
 * The one direct service read a page makes: a begun TOTP enrolment, shown again after a
 * reload. In a `.server` module so the browser build never pulls in the service (its
 * imports, MikroORM entities and Node builtins, have side effects esbuild cannot drop).
 */
export async function pendingEnrolmentFor(
  context: AppLoadContext,
  user: SessionUser,
): Promise<{ secret: string; qrSvg: string } | null> {
  if (user.mfaEnabled) return null;
  const pending = await pendingMfaEnrolment(context.em, context.runtime.config, user);
  return pending ? { secret: pending.secret, qrSvg: pending.qrSvg } : null;
}
