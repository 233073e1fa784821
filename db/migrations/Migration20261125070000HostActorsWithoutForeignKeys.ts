import { Migration } from "@mikro-orm/migrations";

/**
 * hosts.created_by / updated_by stay plain user ids, without foreign keys: a foreign key
 * costs a lookup and row lock in users for every host written, which was half the time
 * of a 100,000-row import (ADR 013). The hash-chained audit log is the record of who
 * changed a host; users are disabled, never deleted, so the ids keep their meaning.
 */
export class Migration20261125070000HostActorsWithoutForeignKeys extends Migration {
  override async up(): Promise<void> {
    this.addSql("alter table hosts drop constraint if exists hosts_created_by_fkey, drop constraint if exists hosts_updated_by_fkey;");
  }

  override async down(): Promise<void> {
    this.addSql("update hosts set created_by = null where created_by is not null and created_by not in (select id from users);");
    this.addSql("update hosts set updated_by = null where updated_by is not null and updated_by not in (select id from users);");
    this.addSql("alter table hosts add constraint hosts_created_by_fkey foreign key (created_by) references users(id) on delete set null;");
    this.addSql("alter table hosts add constraint hosts_updated_by_fkey foreign key (updated_by) references users(id) on delete set null;");
  }
}
