import { readdirSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

/**
 * `npm run bench [name…]`: runs every tests/bench/*.bench.ts (or the named ones). Each
 * benchmark measures OpsDesk and its baseline in the same run and prints both and the ratio.
 */
const wanted = process.argv.slice(2);
const dir = path.dirname(new URL(import.meta.url).pathname);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
if (files.length === 0) {
  console.log(wanted.length ? `No benchmark matches ${wanted.join(", ")}.` : "No benchmarks yet.");
}
for (const file of files) {
  console.log(`\n### ${file}`);
  const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as { run: () => Promise<void> };
  await mod.run();
}
