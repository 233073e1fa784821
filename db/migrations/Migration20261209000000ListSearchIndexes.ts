import { Migration } from "@mikro-orm/migrations";

/**
 * Indexes for the two list filters that read whole tables on a 10,000-host, 100,000-event
 * fleet (ADR 025, "Query plans"): the hosts search (`q`: ILIKE '%text%' on hostname, IP
 * and notes) and the audit actor filter by email substring (ILIKE '%text%'). A btree
 * cannot serve a substring; pg_trgm's GIN operator class can (three characters or more).
 *
 * pg_trgm ships with PostgreSQL (contrib, in the embedded server and the official image)
 * and is a trusted extension, so a database owner may create it. Where it is missing or
 * may not be created, the migration warns and leaves the filters as they were: correct,
 * only slower; `create extension pg_trgm` and the index statements below can be run later
 * by hand.
 *
 * The audit action index is rebuilt with `varchar_pattern_ops`: the `HOST_*` filter is
 * `action LIKE 'HOST\_%'`, which a default btree serves only under the C collation (the
 * embedded server's); under en_US and the like, a prefix that matches little read the
 * whole table. Equality (the exact action filter) uses a pattern_ops index as well, and
 * nothing sorts by action.
 */
const TRIGRAM_INDEXES = [
  "create index hosts_hostname_trgm_idx on hosts using gin (hostname gin_trgm_ops)",
  "create index hosts_ip_trgm_idx on hosts using gin (ip gin_trgm_ops)",
  "create index hosts_notes_trgm_idx on hosts using gin (notes gin_trgm_ops)",
  "create index audit_events_actor_email_trgm_idx on audit_events using gin (actor_email gin_trgm_ops)",
];

export class Migration20261209000000ListSearchIndexes extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      do $$
      begin
        if not exists (select 1 from pg_extension where extname = 'pg_trgm') then
          begin
            create extension pg_trgm;
          exception when others then
            raise warning 'pg_trgm is not available (%): host search and the audit actor filter will read whole tables', sqlerrm;
            return;
          end;
        end if;
        ${TRIGRAM_INDEXES.map((sql) => `execute '${sql}';`).join("\n        ")}
      end $$;`);
    this.addSql("drop index if exists audit_events_action_idx;");
    this.addSql("create index audit_events_action_idx on audit_events (action varchar_pattern_ops, id);");
  }

  override async down(): Promise<void> {
    // The extension stays: other objects may use it by now, and it costs nothing unused.
    this.addSql("drop index if exists audit_events_action_idx;");
    this.addSql("create index audit_events_action_idx on audit_events (action, id);");
    for (const sql of TRIGRAM_INDEXES) this.addSql(`drop index if exists ${/create index (\w+)/.exec(sql)![1]};`);
  }
}
