// `npm start`: build if needed, then serve.
import { execFileSync } from "node:child_process";

execFileSync(process.execPath, ["scripts/ensure-build.mjs"], { stdio: "inherit" });
await import("./serve.mjs");
