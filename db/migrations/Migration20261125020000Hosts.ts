import { Migration } from "@mikro-orm/migrations";

/** The host inventory, and stored CSV import runs (dry run first, apply later). */
export class Migration20261125020000Hosts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table hosts (
        id serial primary key,
        hostname varchar(253) not null,
        ip varchar(45) null,
        port integer not null default 22 check (port between 1 and 65535),
        ssh_user varchar(32) null,
        bastion varchar(500) null,
        ssh_template varchar(500) null,
        environment varchar(32) null,
        os varchar(100) null,
        tags text[] not null default '{}',
        prometheus_instance varchar(255) null,
        notes text not null default '',
        version integer not null default 1,
        -- millisecond precision: keyset cursors carry these values through JavaScript
        created_at timestamptz(3) not null default now(),
        updated_at timestamptz(3) not null default now(),
        created_by integer null references users(id) on delete set null,
        updated_by integer null references users(id) on delete set null
      );`);
    this.addSql("create unique index hosts_hostname_unique on hosts (hostname);");
    this.addSql("create index hosts_ip_idx on hosts (ip);");
    this.addSql("create index hosts_environment_idx on hosts (environment, hostname);");
    this.addSql("create index hosts_tags_idx on hosts using gin (tags);");
    this.addSql("create index hosts_created_at_idx on hosts (created_at, id);");
    this.addSql("create index hosts_updated_at_idx on hosts (updated_at, id);");
    // The uploaded file is kept (for a day) so a reviewed dry run can be applied without
    // uploading it again, and its error report downloaded, by any app instance.
    this.addSql(`
      create table import_runs (
        id uuid primary key,
        user_id integer not null references users(id) on delete cascade,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        file_name varchar(255) null,
        sha256 char(64) not null,
        delimiter varchar(4) not null,
        content bytea not null,
        summary jsonb not null,
        errors jsonb not null,
        applied_at timestamptz null
      );`);
    this.addSql("create index import_runs_expires_idx on import_runs (expires_at);");
  }

  override async down(): Promise<void> {
    this.addSql("drop table if exists import_runs;");
    this.addSql("drop table if exists hosts;");
  }
}
