import { randomBytes } from "node:crypto";
import type { EntityManager } from "@mikro-orm/postgresql";
import { UserSchema } from "../../db/entities/user.entity";
import type { Config } from "../config";
import { hashPassword } from "../auth/password";
import { recordAuditEvent } from "./audit.service";

/**
 * On a database with no users, creates the first admin. Without OPSDESK_ADMIN_PASSWORD a
 * strong password is generated and returned so the caller can print it once.
 */
export async function ensureFirstAdmin(
  em: EntityManager,
  config: Config,
): Promise<{ email: string; generatedPassword: string | null } | null> {
  return em.transactional(async (tx) => {
    // Two instances booting at once must not both create an admin.
    await tx.execute("select pg_advisory_xact_lock(727002)");
    if ((await tx.count(UserSchema, {})) > 0) return null;
    const generatedPassword = config.adminPassword ? null : randomBytes(18).toString("base64url");
    const user = tx.create(UserSchema, {
      email: config.adminEmail,
      passwordHash: await hashPassword(config.adminPassword ?? generatedPassword!),
      role: "admin",
    });
    await tx.flush();
    await recordAuditEvent(tx, config.secret, {
      actor: { id: null, email: "system" },
      action: "USER_CREATED",
      targetType: "user",
      targetId: user.id,
      after: { email: user.email, role: user.role, reason: "first admin at boot" },
    });
    return { email: user.email, generatedPassword };
  });
}
