import { defineEntity, type InferEntity, p } from "@mikro-orm/core";

export const ApiTokenSchema = defineEntity({
  name: "ApiToken",
  tableName: "api_tokens",
  properties: {
    id: p.uuid().primary(),
    userId: p.integer(),
    name: p.string(),
    prefix: p.string(),
    tokenHash: p.string().hidden(),
    createdAt: p.datetime().onCreate(() => new Date()),
    expiresAt: p.datetime(),
    lastUsedAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
  },
});

export type ApiToken = InferEntity<typeof ApiTokenSchema>;
