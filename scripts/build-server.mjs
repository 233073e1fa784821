// Bundles the `opsdesk` CLI so it runs with plain node after `npm run build`.
import { existsSync } from "node:fs";
import { build } from "esbuild";

if (existsSync("server/cli/opsdesk.ts")) {
  await build({
    entryPoints: ["server/cli/opsdesk.ts"],
    outfile: "build/cli/opsdesk.mjs",
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    banner: { js: "#!/usr/bin/env node" },
    logLevel: "warning",
  });
}
