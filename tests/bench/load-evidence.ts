import { createConnection } from "node:net";
import pg from "pg";

/**
 * Evidence for why requests failed under load, sampled while a phase runs:
 *  - PostgreSQL's view of the app's connections (pg_stat_activity): how many are running
 *    a query, how many sit idle inside a transaction (a pooled connection held while the
 *    app waits on something else), and on what;
 *  - haproxy's view of each instance (UP/DOWN from its health check on /readyz).
 */

export type ActivityReport = {
  samples: number;
  maxConnections: number;
  maxActive: number;
  maxIdleInTransaction: number;
  /** "state | wait | query" seen most often over all samples, with its count. */
  top: [string, number][];
};

export async function watchDatabase(databaseUrl: string, intervalMs = 500): Promise<{ stop: () => Promise<ActivityReport> }> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "load-bench-observer" });
  await client.connect();
  const report: ActivityReport = { samples: 0, maxConnections: 0, maxActive: 0, maxIdleInTransaction: 0, top: [] };
  const seen = new Map<string, number>();
  let busy = false;
  const sample = async () => {
    const { rows } = await client.query<{ state: string | null; wait: string | null; query: string }>(
      `select state, wait_event_type || ':' || wait_event as wait, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) as query
         from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`,
    );
    report.samples += 1;
    report.maxConnections = Math.max(report.maxConnections, rows.length);
    report.maxActive = Math.max(report.maxActive, rows.filter((r) => r.state === "active").length);
    report.maxIdleInTransaction = Math.max(report.maxIdleInTransaction, rows.filter((r) => r.state === "idle in transaction").length);
    for (const row of rows) {
      if (row.state === "idle") continue;
      const key = `${row.state} | ${row.wait ?? "-"} | ${row.query}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    sample()
      .catch(() => undefined)
      .finally(() => {
        busy = false;
      });
  }, intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await client.end().catch(() => undefined);
      report.top = [...seen.entries()].sort(([, a], [, b]) => b - a).slice(0, 6);
      return report;
    },
  };
}

/** Per server, how many samples saw each state other than UP ("UP 1/2": one check failed; "DOWN": out). */
export type ProxyReport = { samples: number; notUp: Record<string, Record<string, number>> };

/** haproxy's state of each server, every `intervalMs`; counts the samples where one was not UP. */
export function watchProxy(serverStates: () => Promise<Record<string, string>>, intervalMs = 500): { stop: () => ProxyReport } {
  const report: ProxyReport = { samples: 0, notUp: {} };
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    serverStates()
      .then((states) => {
        report.samples += 1;
        for (const [server, state] of Object.entries(states)) {
          if (state === "UP") continue;
          const seen = report.notUp[server] ?? {};
          report.notUp[server] = seen;
          seen[state] = (seen[state] ?? 0) + 1;
        }
      })
      .catch(() => undefined)
      .finally(() => {
        busy = false;
      });
  }, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      return report;
    },
  };
}

export type ServerCounters = Record<string, number>;
/** Counters of haproxy's `show stat` kept per server (cumulative; subtract two readings). */
const COUNTERS = ["stot", "econ", "eresp", "wretr", "wredis", "qmax", "hrsp_5xx", "chkfail", "ctime", "rtime", "ttime"] as const;
/** Not counters: maxima, and averages over the last 1024 requests (ms to connect, to the first response byte, in all). */
const LATEST = new Set(["qmax", "ctime", "rtime", "ttime"]);

/**
 * Per-server counters from haproxy's stats socket: requests, connection and response
 * errors, retries and redispatches (a retry waits up to 1 s before it is sent again).
 * Null when the socket is not where startCluster keeps it (beside the artifact directory).
 */
export async function haproxyCounters(socket: string): Promise<Record<string, ServerCounters> | null> {
  const csv = await new Promise<string>((resolve, reject) => {
    const connection = createConnection(socket);
    let data = "";
    connection.setTimeout(2_000, () => connection.destroy(new Error("haproxy stats socket timed out")));
    connection.on("connect", () => connection.end("show stat\n"));
    connection.on("data", (d) => {
      data += d;
    });
    connection.on("end", () => resolve(data));
    connection.on("error", reject);
  }).catch(() => null);
  if (!csv) return null;
  const [header, ...lines] = csv.split("\n").filter(Boolean);
  const names = header!.replace(/^# /, "").split(",");
  const found: Record<string, ServerCounters> = {};
  for (const line of lines) {
    const cells = line.split(",");
    const server = cells[1];
    if (cells[0] !== "instances" || !server || server === "FRONTEND") continue;
    found[server] = Object.fromEntries(COUNTERS.map((name) => [name, Number(cells[names.indexOf(name)] || 0)]));
  }
  return found;
}

/** after - before for every counter (maxima and averages: the later reading). */
export function countersDuring(before: Record<string, ServerCounters>, after: Record<string, ServerCounters>): Record<string, ServerCounters> {
  const out: Record<string, ServerCounters> = {};
  for (const [server, counters] of Object.entries(after)) {
    out[server] = Object.fromEntries(
      Object.entries(counters).map(([name, value]) => [name, LATEST.has(name) ? value : value - (before[server]?.[name] ?? 0)]),
    );
  }
  return out;
}
