import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** The package version, read at runtime so the bundle never goes stale. */
export const VERSION: string = (() => {
  try {
    return (require(`${process.cwd()}/package.json`) as { version: string }).version;
  } catch {
    return "0.0.0";
  }
})();
