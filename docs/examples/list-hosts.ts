// Lists production hosts and refreshes the metrics of the first one, with end-to-end
// types from the server's router. Run it from the repository root:
//   OPSDESK_TOKEN=… npx tsx docs/examples/list-hosts.ts
import { createOpsDeskClient } from "../../server/client";

const client = createOpsDeskClient({
  url: process.env.OPSDESK_URL ?? "http://127.0.0.1:3000",
  token: process.env.OPSDESK_TOKEN,
});

const { items } = await client.hosts.list.query({ environment: "prod", limit: 20 });
for (const host of items) console.log(host.id, host.hostname, host.ip ?? "-", host.tags.join(","));

const first = items[0];
if (first) {
  const snapshot = await client.metrics.update.mutate({ hostId: first.id });
  console.log(`${first.hostname}: CPU ${snapshot.values.cpuPct ?? "?"} %, collected ${snapshot.collectedAt}`);
}
