import { Migration } from "@mikro-orm/migrations";

/**
 * Device tokens that failed too many sign-ins (ADR 019): trusted no more until they
 * would have expired. Kept in PostgreSQL so every instance refuses them.
 */
export class Migration20261206010000LockedDeviceTokens extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table locked_device_tokens (
        nonce varchar(64) primary key,
        user_id integer not null references users(id) on delete cascade,
        locked_at timestamptz not null default now(),
        expires_at timestamptz not null
      );`);
    this.addSql("create index locked_device_tokens_expires_idx on locked_device_tokens (expires_at);");
  }

  override async down(): Promise<void> {
    this.addSql("drop table if exists locked_device_tokens;");
  }
}
