import { spawnSync } from "node:child_process";
import { expect, test } from "vitest";
import { importWithoutExitHooks } from "../../db/embedded-postgres";

const HOOKED_EVENTS = ["SIGINT", "SIGTERM", "SIGHUP", "beforeExit", "exit", "message"] as const;

test("loading the embedded-postgres package leaves no signal or exit listener of its own behind", async () => {
  const before = HOOKED_EVENTS.map((event) => process.listenerCount(event));
  await importWithoutExitHooks();
  expect(HOOKED_EVENTS.map((event) => process.listenerCount(event))).toEqual(before);
});

test("a process that loaded the package still exits with the code it set (the package's hook forced 0)", () => {
  // What Vitest does after failed tests: set process.exitCode and let the loop drain.
  const script = [
    'import { importWithoutExitHooks } from "./db/embedded-postgres.ts";',
    "await importWithoutExitHooks();",
    "process.exitCode = 3;",
  ].join("\n");
  const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: process.cwd(),
    encoding: "utf8",
    timeout: 30_000,
  });
  expect(child.stderr).toBe("");
  expect(child.status).toBe(3);
});
