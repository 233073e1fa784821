import { Migration } from "@mikro-orm/migrations";

/**
 * A running import's progress in its `import_runs` row (ADR 022), written per batch from
 * a connection outside the apply's transaction so that every instance can read it while
 * the apply is still open. A run now has a row from its start, so what is only known at
 * its end (the hash, the summary, the errors) may be missing until then.
 */
export class Migration20261208000000ImportProgress extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table import_runs
        add column dry_run boolean not null default true,
        add column phase varchar(16) not null default 'done'
          constraint import_runs_phase_check check (phase in ('parsing', 'validating', 'applying', 'done', 'failed')),
        add column rows_seen integer not null default 0,
        add column rows_applied integer not null default 0,
        add column rows_total integer null,
        add column updated_at timestamptz not null default now(),
        add column failure text null,
        alter column sha256 drop not null,
        alter column summary drop not null,
        alter column errors drop not null;`);
    // Runs stored before this migration are finished: an applied one was last applied.
    this.addSql(`
      update import_runs set
        dry_run = applied_at is null,
        rows_seen = coalesce((summary->>'totalRows')::int, 0) + coalesce((summary->>'errorCount')::int, 0),
        rows_applied = case when applied_at is null then 0 else coalesce((summary->>'totalRows')::int, 0) end,
        updated_at = coalesce(applied_at, created_at);`);
  }

  override async down(): Promise<void> {
    this.addSql("delete from import_runs where sha256 is null or summary is null or errors is null;");
    this.addSql(`
      alter table import_runs
        drop column dry_run,
        drop column phase,
        drop column rows_seen,
        drop column rows_applied,
        drop column rows_total,
        drop column updated_at,
        drop column failure,
        alter column sha256 set not null,
        alter column summary set not null,
        alter column errors set not null;`);
  }
}
