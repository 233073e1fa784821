import { Migration } from "@mikro-orm/migrations";

/** Metrics snapshots with a TTL (only successful updates are stored). */
export class Migration20261125030000Metrics extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table metrics_snapshots (
        id bigserial primary key,
        host_id integer not null references hosts(id) on delete cascade,
        collected_at timestamptz(3) not null,
        expires_at timestamptz(3) not null,
        updated_by integer null references users(id) on delete set null,
        updated_by_email varchar(320) not null,
        outcome varchar(16) not null,
        up smallint null,
        took_ms integer not null,
        values jsonb not null
      );`);
    this.addSql("create index metrics_snapshots_host_idx on metrics_snapshots (host_id, collected_at desc);");
    this.addSql("create index metrics_snapshots_expires_idx on metrics_snapshots (expires_at);");
  }

  override async down(): Promise<void> {
    this.addSql("drop table if exists metrics_snapshots;");
  }
}
