import { Migration } from "@mikro-orm/migrations";

/**
 * An audit event's before/after are stored as `json` (validated text, kept byte for byte)
 * instead of `jsonb`: the stored text is exactly the canonical JSON that was hashed, and
 * PostgreSQL only validates it instead of building a binary tree per row (ADR 013).
 * Nothing queries inside these values. The trigger guards UPDATE/DELETE/TRUNCATE, not a
 * change of column type, so existing events keep their content (and their hashes verify:
 * the verifier hashes the parsed value, not the text).
 */
export class Migration20261125060000AuditJsonText extends Migration {
  override async up(): Promise<void> {
    this.addSql("alter table audit_events alter column before type json using before::json, alter column after type json using after::json;");
  }

  override async down(): Promise<void> {
    this.addSql("alter table audit_events alter column before type jsonb using before::jsonb, alter column after type jsonb using after::jsonb;");
  }
}
