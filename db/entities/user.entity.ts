import { defineEntity, type InferEntity, p } from "@mikro-orm/core";
import { ROLES } from "../../server/auth/roles";

export const UserSchema = defineEntity({
  name: "User",
  tableName: "users",
  properties: {
    id: p.integer().primary().autoincrement(),
    email: p.string().unique(),
    // Never selected unless asked for: a whole user must not carry its hash around.
    passwordHash: p.text().hidden().lazy(),
    role: p.enum([...ROLES]),
    disabled: p.boolean().default(false),
    // Bumped on logout-everywhere, password change, role change or disabling: access
    // tokens carry it, and a mismatch makes them invalid at once.
    tokenVersion: p.integer().default(0),
    mfaEnabled: p.boolean().default(false),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});

export type User = InferEntity<typeof UserSchema>;
