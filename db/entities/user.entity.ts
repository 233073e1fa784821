import { defineEntity, type InferEntity, p } from "@mikro-orm/core";
import { ROLES } from "../../server/auth/roles";

export const UserSchema = defineEntity({
  name: "User",
  tableName: "users",
  properties: {
    id: p.integer().primary().autoincrement(),
    email: p.string().unique(),
    // Never selected unless asked for: a whole user must not carry its hash around.
    passwordHash: p.text().hidden().lazy(true, false),
    role: p.enum([...ROLES]),
    disabled: p.boolean().default(false),
    // Bumped on logout-everywhere, password change, role change or disabling: access
    // tokens carry it, and a mismatch makes them invalid at once.
    tokenVersion: p.integer().default(0),
    mfaEnabled: p.boolean().default(false),
    // TOTP secrets are sealed with the server secret (AES-256-GCM), never stored in clear.
    mfaSecretEnc: p.text().nullable(),
    mfaPendingSecretEnc: p.text().nullable(),
    // The last accepted time step: a code is never accepted twice.
    mfaLastStep: p.bigint("number").nullable(),
    mfaRecoveryHashes: p.array().default([]).hidden().lazy(true, false),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});

export type User = InferEntity<typeof UserSchema>;
