import { seedDemoData } from "../../db/seeders/demo.seeder";
import { withDatabase } from "./with-database";

// `npm run db:seed`: adds demo data (idempotent: running it twice adds nothing twice).
await withDatabase(async (orm, config) => {
  const summary = await seedDemoData(orm.em.fork(), config);
  for (const line of summary) console.log(line);
});
