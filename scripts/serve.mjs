// Starts the server from the Remix build (see server/http/main.ts).
import path from "node:path";
import { pathToFileURL } from "node:url";

// Configuration reads the environment as the operator gave it (an unset NODE_ENV means
// "not production": no OPSDESK_SECRET required). React and Remix still need
// NODE_ENV=production to run their production code paths on a production build.
const operatorEnv = { ...process.env };
process.env.NODE_ENV ??= "production";

const build = await import(pathToFileURL(path.resolve("build/index.js")).href);
await build.entry.module.runServer(build, operatorEnv);
