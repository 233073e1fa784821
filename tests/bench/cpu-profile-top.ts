import { readFileSync } from "node:fs";

/**
 * `npx tsx tests/bench/cpu-profile-top.ts <file.cpuprofile> [count]`: where an instance's
 * main thread spent its time during `LOAD_CPU_PROFILE=<dir> npm run bench load`, as self
 * time per function and per package (node_modules/<name>, our code by top folder).
 * Work on other threads (argon2 in libuv's pool) is not in a V8 profile.
 */
type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] };
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

function ownerOf({ url, functionName }: Node["callFrame"]): string {
  // (idle), (garbage collector), (program): V8's own buckets.
  if (!url) return functionName.startsWith("(") ? functionName : "(native / V8)";
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith("node:")) return "node core";
  const ours = /\/(build|server|app|db)\//.exec(url);
  return ours ? `ours: ${ours[1]}/` : url;
}

export function summarise(profile: Profile, count: number): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMicros = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  for (const [id, micros] of selfMicros) {
    const frame = byId.get(id)!.callFrame;
    const name = `${frame.functionName || "(anonymous)"}  ${frame.url.replace(/^.*node_modules\//, "")}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    byOwner.set(ownerOf(frame), (byOwner.get(ownerOf(frame)) ?? 0) + micros);
  }
  const pct = (micros: number) => `${((micros / total) * 100).toFixed(1).padStart(5)}%`;
  const top = (map: Map<string, number>) =>
    [...map.entries()]
      .sort(([, a], [, b]) => b - a)
      .slice(0, count)
      .map(([name, micros]) => `  ${pct(micros)}  ${name}`);
  const wall = (profile.endTime - profile.startTime) / 1e6;
  return [
    `profile: ${wall.toFixed(1)} s wall, ${(total / 1e6).toFixed(1)} s sampled on the main thread`,
    "self time by package:",
    ...top(byOwner),
    "self time by function:",
    ...top(byFunction),
  ];
}

const [file, count] = process.argv.slice(2);
if (file) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  for (const line of summarise(profile, Number(count ?? 20))) console.log(line);
}
