import { defineEntity, type InferEntity, p } from "@mikro-orm/core";

export const HostSchema = defineEntity({
  name: "Host",
  tableName: "hosts",
  properties: {
    id: p.integer().primary().autoincrement(),
    hostname: p.string().unique(),
    ip: p.string().nullable(),
    port: p.integer().default(22),
    sshUser: p.string().nullable(),
    bastion: p.string().nullable(),
    sshTemplate: p.string().nullable(),
    environment: p.string().nullable(),
    os: p.string().nullable(),
    tags: p.array().default([]),
    prometheusInstance: p.string().nullable(),
    notes: p.text().default(""),
    // Optimistic locking: every update and delete must name the version it read.
    version: p.integer().version().default(1),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
    createdBy: p.integer().nullable(),
    updatedBy: p.integer().nullable(),
  },
});

export type Host = InferEntity<typeof HostSchema>;
