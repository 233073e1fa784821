import { Migration } from "@mikro-orm/migrations";

/**
 * The last round of each periodic job that some instance claimed (ADR 020). Instances
 * wake on the same wall-clock boundaries; the first to move `round_at` forward runs the
 * round, the others see it taken and skip, so N instances clean up once per interval.
 */
export class Migration20261207000000MaintenanceRounds extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table maintenance_rounds (
        job varchar(64) primary key,
        round_at timestamptz not null,
        ran_by varchar(200) not null,
        ran_at timestamptz not null default now()
      );`);
  }

  override async down(): Promise<void> {
    this.addSql("drop table if exists maintenance_rounds;");
  }
}
