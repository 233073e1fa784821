import { migrateUp } from "../../db/orm";
import { withDatabase } from "./with-database";

// `npm run db:migrate`: applies pending migrations (the server also does this at start).
await withDatabase(
  async (orm) => {
    const applied = await migrateUp(orm);
    console.log(applied.length ? `Applied: ${applied.join(", ")}` : "The database is up to date.");
  },
  { migrate: false },
);
