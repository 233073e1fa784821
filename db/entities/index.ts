import { AuditEventSchema } from "./audit-event.entity";
import { SettingSchema } from "./setting.entity";
import { UserSchema } from "./user.entity";

export const entities = [UserSchema, SettingSchema, AuditEventSchema];
