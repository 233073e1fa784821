import { Migration } from "@mikro-orm/migrations";

/**
 * The audit index on targets loses `target_type` from its key (ADR 014): (target_id, id)
 * serves "events of this host, newest first" as before, with target_type checked on the
 * row (ids of two kinds rarely collide), and is cheaper to maintain for an import's
 * hundred thousand events, whose target ids do not arrive in index order.
 */
export class Migration20261125080000AuditTargetIndex extends Migration {
  override async up(): Promise<void> {
    this.addSql("drop index if exists audit_events_target_idx;");
    this.addSql("create index audit_events_target_idx on audit_events (target_id, id);");
  }

  override async down(): Promise<void> {
    this.addSql("drop index if exists audit_events_target_idx;");
    this.addSql("create index audit_events_target_idx on audit_events (target_type, target_id, id);");
  }
}
