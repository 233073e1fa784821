import { ApiTokenSchema } from "./api-token.entity";
import { AuditEventSchema } from "./audit-event.entity";
import { HostSchema } from "./host.entity";
import { RefreshTokenSchema } from "./refresh-token.entity";
import { SessionSchema } from "./session.entity";
import { SettingSchema } from "./setting.entity";
import { UserSchema } from "./user.entity";

export const entities = [UserSchema, SettingSchema, AuditEventSchema, SessionSchema, RefreshTokenSchema, ApiTokenSchema, HostSchema];
