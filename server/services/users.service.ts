import { randomBytes } from "node:crypto";
import type { EntityManager } from "@mikro-orm/postgresql";
import { UserSchema } from "../../db/entities/user.entity";
import type { Config } from "../config";
import { hashPassword, verifyPassword } from "../auth/password";
import type { Role } from "../auth/roles";
import type { SessionUser } from "../auth/session-user";
import { DomainError } from "../errors";
import { type AuditActor, type AuditRequestInfo, recordAuditEvent } from "./audit.service";
import { revokeUserSessions } from "./sessions.service";

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

export type UserView = {
  id: number;
  email: string;
  role: Role;
  disabled: boolean;
  mfaEnabled: boolean;
  createdAt: string;
  updatedAt: string;
};

function userView(u: {
  id: number;
  email: string;
  role: Role;
  disabled: boolean;
  mfaEnabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}): UserView {
  return {
    id: u.id,
    email: u.email,
    role: u.role,
    disabled: u.disabled,
    mfaEnabled: u.mfaEnabled,
    createdAt: u.createdAt.toISOString(),
    updatedAt: u.updatedAt.toISOString(),
  };
}

export async function listUsers(
  em: EntityManager,
  page: { cursor?: number; limit: number },
): Promise<{ items: UserView[]; nextCursor: number | null }> {
  const rows = await em.find(UserSchema, page.cursor ? { id: { $gt: page.cursor } } : {}, {
    orderBy: { id: "asc" },
    limit: page.limit + 1,
  });
  const items = rows.slice(0, page.limit).map(userView);
  return { items, nextCursor: rows.length > page.limit ? items[items.length - 1]!.id : null };
}

/** Creates a user; without a password a temporary one is generated and returned once. */
export async function createUser(
  em: EntityManager,
  config: Config,
  actor: AuditActor,
  input: { email: string; role: Role; password?: string },
  request: AuditRequestInfo,
): Promise<{ user: UserView; temporaryPassword: string | null }> {
  const email = input.email.trim().toLowerCase();
  const temporaryPassword = input.password ? null : randomBytes(15).toString("base64url");
  const passwordHash = await hashPassword(input.password ?? temporaryPassword!);
  return em.transactional(async (tx) => {
    if (await tx.count(UserSchema, { email })) {
      throw new DomainError("CONFLICT", `A user with the email ${email} already exists.`);
    }
    const user = tx.create(UserSchema, { email, role: input.role, passwordHash });
    await tx.flush();
    await recordAuditEvent(tx, config.secret, {
      actor,
      action: "USER_CREATED",
      targetType: "user",
      targetId: user.id,
      after: { email, role: input.role, temporaryPassword: temporaryPassword !== null },
      request,
    });
    return { user: userView(user), temporaryPassword };
  });
}

/**
 * Changes role or disabled state. Either change ends the user's sessions at once (token
 * version bump); API tokens keep working but always act with the owner's current role,
 * and stop when the owner is disabled. The last active admin can be neither demoted nor
 * disabled.
 */
export async function updateUser(
  em: EntityManager,
  config: Config,
  actor: AuditActor,
  input: { id: number; role?: Role; disabled?: boolean },
  request: AuditRequestInfo,
): Promise<UserView> {
  return em.transactional(async (tx) => {
    await tx.execute("select pg_advisory_xact_lock(727003)"); // serialises admin-count checks
    const user = await tx.findOne(UserSchema, { id: input.id });
    if (!user) throw new DomainError("NOT_FOUND", "No such user.");
    const before = { role: user.role, disabled: user.disabled };
    const role = input.role ?? user.role;
    const disabled = input.disabled ?? user.disabled;
    if (role === before.role && disabled === before.disabled) return userView(user);
    const losesAdmin = before.role === "admin" && !before.disabled && (role !== "admin" || disabled);
    if (losesAdmin) {
      const otherAdmins = await tx.count(UserSchema, { role: "admin", disabled: false, id: { $ne: user.id } });
      if (otherAdmins === 0) {
        throw new DomainError("CONFLICT", "This is the last active admin: make another user admin first.");
      }
    }
    user.role = role;
    user.disabled = disabled;
    user.tokenVersion += 1;
    await tx.flush();
    await revokeUserSessions(tx, user.id, disabled ? "user-disabled" : "role-changed");
    await recordAuditEvent(tx, config.secret, {
      actor,
      action: "USER_UPDATED",
      targetType: "user",
      targetId: user.id,
      before,
      after: { role, disabled },
      request,
    });
    return userView(user);
  });
}

/** Changes one's own password after checking the current one; other sessions end. */
export async function changePassword(
  em: EntityManager,
  config: Config,
  actor: SessionUser,
  input: { currentPassword: string; newPassword: string },
  currentSessionId: string | null,
  request: AuditRequestInfo,
): Promise<void> {
  const user = await em.findOneOrFail(UserSchema, { id: actor.id }, { populate: ["passwordHash"] });
  if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
    throw new DomainError("BAD_REQUEST", "The current password is not correct.");
  }
  const newHash = await hashPassword(input.newPassword);
  await em.transactional(async (tx) => {
    await tx.execute("update users set password_hash = ?, token_version = token_version + 1, updated_at = now() where id = ?", [
      newHash,
      user.id,
    ]);
    await tx.execute(
      "update sessions set revoked_at = now(), revoked_reason = 'password-changed' where user_id = ? and revoked_at is null and id is distinct from ?",
      [user.id, currentSessionId],
    );
    await recordAuditEvent(tx, config.secret, {
      actor,
      action: "PASSWORD_CHANGED",
      targetType: "user",
      targetId: user.id,
      after: { otherSessionsEnded: true },
      request,
    });
  });
}
