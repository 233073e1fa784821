import { Migration } from "@mikro-orm/migrations";

/**
 * Which client rotated a refresh token (a hash of its address and user agent), so that a
 * second presentation within the short grace is forgiven only for that same client
 * (RFC 9700 §4.14.2; issue 17, ADR 019).
 */
export class Migration20261206000000RefreshRotatedBy extends Migration {
  override async up(): Promise<void> {
    this.addSql("alter table refresh_tokens add column rotated_by char(64) null;");
  }

  override async down(): Promise<void> {
    this.addSql("alter table refresh_tokens drop column rotated_by;");
  }
}
