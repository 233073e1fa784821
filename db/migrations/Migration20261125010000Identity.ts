import { Migration } from "@mikro-orm/migrations";

/** Sessions with rotating refresh tokens, API tokens, MFA columns and rate-limit buckets. */
export class Migration20261125010000Identity extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table users
        add column mfa_secret_enc text null,
        add column mfa_pending_secret_enc text null,
        add column mfa_last_step bigint null,
        add column mfa_recovery_hashes text[] not null default '{}';`);
    // A session is one sign-in (one refresh-token family). Access tokens name it, so
    // revoking it ends them at once.
    this.addSql(`
      create table sessions (
        id uuid primary key,
        user_id integer not null references users(id) on delete cascade,
        created_at timestamptz not null default now(),
        last_used_at timestamptz not null default now(),
        expires_at timestamptz not null,
        revoked_at timestamptz null,
        revoked_reason varchar(64) null,
        ip varchar(64) null,
        user_agent text null
      );`);
    this.addSql("create index sessions_user_idx on sessions (user_id);");
    this.addSql("create index sessions_expires_idx on sessions (expires_at);");
    this.addSql(`
      create table refresh_tokens (
        id uuid primary key,
        session_id uuid not null references sessions(id) on delete cascade,
        token_hash char(64) not null,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        rotated_at timestamptz null
      );`);
    this.addSql("create unique index refresh_tokens_hash_unique on refresh_tokens (token_hash);");
    this.addSql("create index refresh_tokens_session_idx on refresh_tokens (session_id);");
    this.addSql("create index refresh_tokens_expires_idx on refresh_tokens (expires_at);");
    this.addSql(`
      create table api_tokens (
        id uuid primary key,
        user_id integer not null references users(id) on delete cascade,
        name varchar(100) not null,
        prefix varchar(16) not null,
        token_hash char(64) not null,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        last_used_at timestamptz null,
        revoked_at timestamptz null
      );`);
    this.addSql("create unique index api_tokens_hash_unique on api_tokens (token_hash);");
    this.addSql("create index api_tokens_user_idx on api_tokens (user_id, created_at);");
    this.addSql("create index api_tokens_expires_idx on api_tokens (expires_at);");
    this.addSql(`
      create table rate_limit_buckets (
        key varchar(300) primary key,
        count integer not null,
        window_start timestamptz not null,
        expires_at timestamptz not null
      );`);
    this.addSql("create index rate_limit_buckets_expires_idx on rate_limit_buckets (expires_at);");
  }

  override async down(): Promise<void> {
    this.addSql("drop table if exists rate_limit_buckets;");
    this.addSql("drop table if exists api_tokens;");
    this.addSql("drop table if exists refresh_tokens;");
    this.addSql("drop table if exists sessions;");
    this.addSql(`alter table users drop column mfa_secret_enc, drop column mfa_pending_secret_enc,
      drop column mfa_last_step, drop column mfa_recovery_hashes;`);
  }
}
