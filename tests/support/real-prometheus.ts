import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { freePort } from "../../db/embedded-postgres";
import { makeTempDir } from "./temp-dir";

export type RealPrometheus = { url: string; instance: string; stop: () => Promise<void> };

function which(binary: string): string | null {
  try {
    return execFileSync("which", [binary], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

/** Why the real-Prometheus tests cannot run here, or null when they can. */
export function realPrometheusMissing(): string | null {
  const missing = ["prometheus", "prometheus-node-exporter"].filter((b) => !which(b));
  return missing.length ? `not installed: ${missing.join(", ")} (apt-get install ${missing.join(" ")})` : null;
}

/**
 * A real node_exporter and Prometheus on free loopback ports, Prometheus scraping the
 * exporter every second from a temporary config; resolves once CPU rates have data.
 */
export async function startRealPrometheus(): Promise<RealPrometheus> {
  const dir = makeTempDir("opsdesk-prom-");
  const exporterPort = await freePort();
  const promPort = await freePort();
  const instance = `127.0.0.1:${exporterPort}`;
  const children: ChildProcess[] = [];
  const spawnQuiet = (cmd: string, args: string[]) => {
    const child = spawn(cmd, args, { stdio: "ignore" });
    children.push(child);
    return child;
  };
  spawnQuiet("prometheus-node-exporter", [
    `--web.listen-address=${instance}`,
    // Only what OpsDesk reads: faster scrapes, nothing host-specific that may fail.
    "--collector.disable-defaults",
    "--collector.cpu",
    "--collector.meminfo",
    "--collector.filesystem",
    "--collector.loadavg",
    "--collector.stat",
    "--collector.netdev",
  ]);
  writeFileSync(
    path.join(dir, "prometheus.yml"),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ["${instance}"]\n`,
  );
  spawnQuiet("prometheus", [
    `--config.file=${path.join(dir, "prometheus.yml")}`,
    `--storage.tsdb.path=${path.join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
    "--log.level=error",
  ]);
  const url = `http://127.0.0.1:${promPort}`;
  const stop = async () => {
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once("exit", r)))));
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  const query = `rate(node_cpu_seconds_total{instance="${instance}",mode="idle"}[5m])`;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`);
      const body = (await res.json()) as { data?: { result?: unknown[] } };
      if ((body.data?.result?.length ?? 0) > 0) return { url, instance, stop };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error("Prometheus did not collect node_exporter data within 30 s");
}
