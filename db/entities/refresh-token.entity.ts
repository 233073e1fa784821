import { defineEntity, type InferEntity, p } from "@mikro-orm/core";

export const RefreshTokenSchema = defineEntity({
  name: "RefreshToken",
  tableName: "refresh_tokens",
  properties: {
    id: p.uuid().primary(),
    sessionId: p.uuid(),
    tokenHash: p.string().hidden(),
    createdAt: p.datetime().onCreate(() => new Date()),
    expiresAt: p.datetime(),
    rotatedAt: p.datetime().nullable(),
    /** sha256 of the rotating client's address and user agent (ADR 019). */
    rotatedBy: p.string().length(64).nullable(),
  },
});

export type RefreshToken = InferEntity<typeof RefreshTokenSchema>;
