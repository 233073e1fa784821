import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";

/**
 * What the load benchmark reads from /proc (Linux only): resident memory of the app
 * processes and CPU time of every process this benchmark started, so a figure can say
 * which part used the machine's cores.
 */

const CLOCK_TICKS = 100; // USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK)

/** VmRSS and VmHWM (peak RSS) of a process, in bytes; null once it is gone. */
export function memoryOf(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) * 1024;
    return { rss: kib("VmRSS"), hwm: kib("VmHWM") };
  } catch {
    return null;
  }
}

/**
 * Resets a process's VmHWM to its current RSS (writing 5 to clear_refs), so the peak read
 * after a phase is that phase's own, not the seeding's. False where the kernel refuses.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

type ProcStat = { pid: number; ppid: number; comm: string; cpuSeconds: number };

function readStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm is in parentheses and may itself contain spaces or parentheses.
    const open = text.indexOf("(");
    const close = text.lastIndexOf(")");
    const fields = text.slice(close + 2).split(" ");
    // After comm: state(0) ppid(1) … utime(11) stime(12).
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { pid, ppid: Number(fields[1]), comm: text.slice(open + 1, close), cpuSeconds: ticks / CLOCK_TICKS };
  } catch {
    return null;
  }
}

/** Every process below `root` (children, grandchildren …), with its CPU seconds so far. */
export function descendants(root: number): ProcStat[] {
  const all = readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readStat(Number(name)))
    .filter((s): s is ProcStat => s !== null);
  const byParent = new Map<number, ProcStat[]>();
  for (const stat of all) byParent.set(stat.ppid, [...(byParent.get(stat.ppid) ?? []), stat]);
  const found: ProcStat[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of byParent.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/** Busy and total CPU seconds of the whole machine so far (all sessions on it, not only ours). */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0); // idle + iowait
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / CLOCK_TICKS, total: total / CLOCK_TICKS };
}

export type CpuGroup = { name: string; match: (p: ProcStat) => boolean };

/**
 * CPU used during a phase, in cores (CPU seconds / wall seconds), per group of our
 * processes, for this process (the load generator) and for the whole machine.
 * A process started inside the phase counts whole; one that ended inside it is not seen at
 * the end and counts nothing (PostgreSQL backends of a busy pool stay for the whole phase).
 */
export function cpuMeter(groups: CpuGroup[]): { stop: () => { wallSeconds: number; cores: Record<string, number>; machineBusy: number; machineCores: number } } {
  const startedAt = performance.now();
  const before = new Map(descendants(process.pid).map((p) => [p.pid, p.cpuSeconds]));
  const selfBefore = process.cpuUsage();
  const machineBefore = machineCpu();
  return {
    stop: () => {
      const wallSeconds = (performance.now() - startedAt) / 1000;
      const cores: Record<string, number> = {};
      for (const proc of descendants(process.pid)) {
        const group = groups.find((g) => g.match(proc))?.name ?? "other";
        const used = proc.cpuSeconds - (before.get(proc.pid) ?? 0);
        cores[group] = (cores[group] ?? 0) + used / wallSeconds;
      }
      const self = process.cpuUsage(selfBefore);
      cores["load generator (this process)"] = (self.user + self.system) / 1e6 / wallSeconds;
      const machineAfter = machineCpu();
      const machineBusy = (machineAfter.busy - machineBefore.busy) / wallSeconds;
      return { wallSeconds, cores, machineBusy, machineCores: cpus().length };
    },
  };
}
