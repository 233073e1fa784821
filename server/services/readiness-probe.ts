import pg from "pg";

/**
 * `/readyz`'s own database connection. Under load the ORM pool can have a hundred requests
 * queued for its ten connections; a probe waiting in that queue past its timeout answered
 * 503, and the balancer then took a busy but healthy instance out (with one instance: a
 * full outage). This connection only ever runs `select 1`, so readiness says whether the
 * database answers, not how long the pool's queue is. It connects on first use, and is
 * dropped on any error or timeout so the next probe starts afresh (a restarted database
 * is found again by itself).
 */
export type ReadinessProbe = {
  ping: (timeoutMs: number) => Promise<{ ok: boolean; latencyMs: number | null }>;
  close: () => Promise<void>;
};

export function createReadinessProbe(databaseUrl: string): ReadinessProbe {
  let client: Promise<pg.Client> | undefined;
  let closed = false;

  const drop = () => {
    const current = client;
    client = undefined;
    void current?.then((c) => c.end()).catch(() => {});
  };

  const connect = (timeoutMs: number): Promise<pg.Client> => {
    if (!client) {
      const c = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: timeoutMs, application_name: "opsdesk-readyz" });
      // A database that goes away must not crash the process: the next probe reconnects.
      c.on("error", () => {
        if (client === connecting) drop();
      });
      const connecting = c.connect().then(() => c);
      client = connecting;
      connecting.catch(() => {
        if (client === connecting) client = undefined;
      });
    }
    return client;
  };

  return {
    async ping(timeoutMs) {
      if (closed) return { ok: false, latencyMs: null };
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      const query = connect(timeoutMs)
        .then((c) => c.query("select 1"))
        .then(() => true)
        .catch(() => false);
      const ok = await Promise.race([query, timeout]);
      clearTimeout(timer);
      if (!ok) drop();
      return { ok, latencyMs: ok ? Math.round((performance.now() - started) * 10) / 10 : null };
    },
    async close() {
      closed = true;
      const current = client;
      client = undefined;
      await current?.then((c) => c.end()).catch(() => {});
    },
  };
}
