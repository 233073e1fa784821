import { defineEntity, type InferEntity, p } from "@mikro-orm/core";

/**
 * Rows are written only by `recordAuditEvent` (raw insert under an advisory lock, so the
 * hash chain has one order); this schema is for reading them.
 */
export const AuditEventSchema = defineEntity({
  name: "AuditEvent",
  tableName: "audit_events",
  properties: {
    id: p.bigint("number").primary().autoincrement(),
    at: p.datetime(),
    actorId: p.integer().nullable(),
    actorEmail: p.string().nullable(),
    action: p.string(),
    targetType: p.string().nullable(),
    targetId: p.string().nullable(),
    before: p.json<unknown>().nullable(),
    after: p.json<unknown>().nullable(),
    ip: p.string().nullable(),
    userAgent: p.text().nullable(),
    requestId: p.string().nullable(),
    outcome: p.string(),
    prevHash: p.string(),
    hash: p.string(),
  },
});

export type AuditEvent = InferEntity<typeof AuditEventSchema>;
