import { Migration } from "@mikro-orm/migrations";

/**
 * Artifacts belong to a host; deleting the host deletes them (ADR 006). File removals are
 * queued in the same transaction as the row deletion and done after commit, retried by
 * the cleanup job, so no row ever points at nothing and no file is left behind for good.
 */
export class Migration20261125040000Artifacts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table artifacts (
        id uuid primary key,
        host_id integer not null references hosts(id) on delete cascade,
        original_name varchar(255) not null,
        stored_name varchar(200) not null,
        size_bytes bigint not null,
        sha256 char(64) not null,
        content_type varchar(100) not null,
        uploaded_by integer null references users(id) on delete set null,
        uploaded_by_email varchar(320) not null,
        created_at timestamptz(3) not null default now()
      );`);
    this.addSql("create index artifacts_host_idx on artifacts (host_id, created_at desc, id);");
    this.addSql("create unique index artifacts_stored_name_unique on artifacts (stored_name);");
    this.addSql(`
      create table artifact_file_deletions (
        stored_name varchar(200) primary key,
        queued_at timestamptz not null default now(),
        attempts integer not null default 0,
        last_error text null
      );`);
  }

  override async down(): Promise<void> {
    this.addSql("drop table if exists artifact_file_deletions;");
    this.addSql("drop table if exists artifacts;");
  }
}
