// Builds when there is no build yet, or when sources are newer than it: `npm start` and
// `npm test` work on a fresh clone without a separate build step.
import { execSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const output = "build/index.js";

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

const sources = ["app", "server", "db"].filter((d) => existsSync(d));
const stale =
  !existsSync(output) ||
  sources.some((dir) => newestMtime(dir) > statSync(output).mtimeMs) ||
  ["remix.config.js", "tailwind.config.ts", "package-lock.json"].some(
    (f) => existsSync(f) && statSync(f).mtimeMs > statSync(output).mtimeMs,
  );
if (stale) {
  console.log("Building OpsDesk (sources changed or no build yet)…");
  execSync("npm run build", { stdio: "inherit" });
}
