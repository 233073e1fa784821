import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { type Cluster, startCluster } from "../support/cluster";

// Two real processes (`node scripts/serve.mjs` on the build) behind a real haproxy.
const hasBuild = existsSync("build/index.js");
if (!hasBuild) console.warn("two-instance tests skipped: no build/index.js (run `npm run build`)");

let cluster: Cluster;

beforeAll(async () => {
  if (!hasBuild) return;
  cluster = await startCluster({ instances: 2, store: "s3", postgresUrl: inject("postgresUrl") });
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!hasBuild)("two instances behind haproxy", () => {
  test("the proxy sends consecutive requests to both instances, each of them ready", async () => {
    const servedBy = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${cluster.url}/readyz`);
      expect(res.status).toBe(200);
      servedBy.add(res.headers.get("x-opsdesk-instance") ?? "none");
    }
    expect([...servedBy].sort()).toEqual(["a", "b"]);
    for (const instance of cluster.instances) expect((await fetch(`${instance.url}/readyz`)).status).toBe(200);
    expect(await cluster.serverStates()).toEqual({ a: "UP", b: "UP" });
  });
});

describe.skipIf(!hasBuild)("stopping a cluster", () => {
  test("leaves no app, haproxy or s3rver behind", async () => {
    const own = await startCluster({ instances: 1, store: "fs", postgresUrl: inject("postgresUrl") });
    const pids = own.instances.map((i) => i.pid);
    const dir = own.artifactDir!;
    expect(pids.every(isRunning)).toBe(true);
    await own.stop();
    expect(pids.filter(isRunning)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    await expect(fetch(`${own.url}/healthz`)).rejects.toThrow();
  }, 60_000);
});
