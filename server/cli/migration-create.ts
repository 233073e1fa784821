import { writeFileSync } from "node:fs";
import path from "node:path";

// `npm run db:migration:create -- <name>`: writes a timestamped migration to fill in.
const name = (process.argv[2] ?? "").replace(/[^A-Za-z0-9]/g, "");
if (!name) {
  console.error("Usage: npm run db:migration:create -- <Name>   (letters and digits)");
  process.exit(2);
}
const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
const className = `Migration${stamp}${name}`;
const file = path.join("db", "migrations", `${className}.ts`);
writeFileSync(
  file,
  `import { Migration } from "@mikro-orm/migrations";

export class ${className} extends Migration {
  override async up(): Promise<void> {
    this.addSql("");
  }

  override async down(): Promise<void> {
    this.addSql("");
  }
}
`,
  { flag: "wx" },
);
console.log(`Created ${file}. Add it to db/migrations/index.ts (migrationsList), then fill in up() and down().`);
