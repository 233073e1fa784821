import { defineEntity, type InferEntity, p } from "@mikro-orm/core";

/** One sign-in: a family of rotating refresh tokens that access tokens point to. */
export const SessionSchema = defineEntity({
  name: "Session",
  tableName: "sessions",
  properties: {
    id: p.uuid().primary(),
    userId: p.integer(),
    createdAt: p.datetime().onCreate(() => new Date()),
    lastUsedAt: p.datetime().onCreate(() => new Date()),
    expiresAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
    revokedReason: p.string().nullable(),
    ip: p.string().nullable(),
    userAgent: p.text().nullable(),
  },
});

export type Session = InferEntity<typeof SessionSchema>;
