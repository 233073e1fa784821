import { Migration } from "@mikro-orm/migrations";

/** A streamed import too large to keep is stored without its bytes (it cannot be applied by id). */
export class Migration20261125050000ImportRunsLarge extends Migration {
  override async up(): Promise<void> {
    this.addSql("alter table import_runs alter column content drop not null;");
  }

  override async down(): Promise<void> {
    this.addSql("delete from import_runs where content is null;");
    this.addSql("alter table import_runs alter column content set not null;");
  }
}
