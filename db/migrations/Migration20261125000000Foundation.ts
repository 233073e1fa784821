import { Migration } from "@mikro-orm/migrations";

/** Users, settings and the append-only, hash-chained audit log. */
export class Migration20261125000000Foundation extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table users (
        id serial primary key,
        email varchar(320) not null,
        password_hash text not null,
        role varchar(16) not null check (role in ('admin','operator','auditor','viewer')),
        disabled boolean not null default false,
        token_version integer not null default 0,
        mfa_enabled boolean not null default false,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );`);
    this.addSql("create unique index users_email_unique on users (lower(email));");
    this.addSql(`
      create table settings (
        key varchar(100) primary key,
        value jsonb not null,
        updated_at timestamptz not null default now(),
        updated_by integer null
      );`);
    this.addSql(`
      create table audit_events (
        id bigserial primary key,
        at timestamptz not null,
        actor_id integer null,
        actor_email varchar(320) null,
        action varchar(64) not null,
        target_type varchar(64) null,
        target_id varchar(128) null,
        before jsonb null,
        after jsonb null,
        ip varchar(64) null,
        user_agent text null,
        request_id varchar(128) null,
        outcome varchar(16) not null,
        prev_hash char(64) not null,
        hash char(64) not null
      );`);
    this.addSql("create index audit_events_at_idx on audit_events (at);");
    this.addSql("create index audit_events_actor_idx on audit_events (actor_id, id);");
    this.addSql("create index audit_events_action_idx on audit_events (action, id);");
    this.addSql("create index audit_events_target_idx on audit_events (target_type, target_id, id);");
    // Append-only in the database itself: even a bug or a stray SQL session in the app
    // cannot rewrite history. Only a superuser disabling the trigger can, and the hash
    // chain then shows it.
    this.addSql(`
      create function audit_events_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'audit_events is append-only (% refused)', tg_op
          using errcode = 'insufficient_privilege';
      end $$;`);
    this.addSql(`create trigger audit_events_no_update_delete before update or delete on audit_events
      for each row execute function audit_events_append_only();`);
    this.addSql(`create trigger audit_events_no_truncate before truncate on audit_events
      for each statement execute function audit_events_append_only();`);
  }

  override async down(): Promise<void> {
    this.addSql("drop table if exists audit_events;");
    this.addSql("drop function if exists audit_events_append_only();");
    this.addSql("drop table if exists settings;");
    this.addSql("drop table if exists users;");
  }
}
