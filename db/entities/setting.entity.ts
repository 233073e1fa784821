import { defineEntity, type InferEntity, p } from "@mikro-orm/core";

export const SettingSchema = defineEntity({
  name: "Setting",
  tableName: "settings",
  properties: {
    key: p.string().primary(),
    value: p.json<unknown>(),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
    updatedBy: p.integer().nullable(),
  },
});

export type Setting = InferEntity<typeof SettingSchema>;
