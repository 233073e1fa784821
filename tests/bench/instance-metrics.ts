/**
 * Each instance's own GET /metrics (Prometheus text), read straight from the instance
 * (not through the proxy): how many requests it served (the spread across instances),
 * how many waited for a database connection, and its event-loop lag. Sampled once a
 * second during a phase; one small request per second per instance.
 */
export type InstanceSample = { requests: number; errors5xx: number; poolPending: number; poolUsed: number; loopLagP99Ms: number };

export async function readInstanceMetrics(instanceUrl: string): Promise<InstanceSample | null> {
  try {
    const res = await fetch(`${instanceUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
    if (res.status !== 200) return null;
    const text = await res.text();
    const sum = (name: string, labels = "") => {
      let total = 0;
      for (const line of text.split("\n")) {
        if (line.startsWith(`${name}{`) && line.includes(labels)) total += Number(line.slice(line.lastIndexOf(" ") + 1));
        else if (line.startsWith(`${name} `)) total += Number(line.slice(name.length + 1));
      }
      return total;
    };
    return {
      requests: sum("opsdesk_http_requests_total"),
      errors5xx: sum("opsdesk_http_requests_total", 'status="5xx"'),
      poolPending: sum("opsdesk_db_pool_connections", 'state="pending"'),
      poolUsed: sum("opsdesk_db_pool_connections", 'state="used"'),
      loopLagP99Ms: sum("opsdesk_nodejs_eventloop_lag_p99_seconds") * 1000,
    };
  } catch {
    return null;
  }
}

export type InstanceWatch = {
  stop: () => Promise<{ served: number; served5xx: number; maxPoolPending: number; maxPoolUsed: number; maxLoopLagP99Ms: number; samples: number }>;
};

/** Samples an instance every second until stopped; `served` counts requests during the watch. */
export async function watchInstance(instanceUrl: string): Promise<InstanceWatch> {
  const first = await readInstanceMetrics(instanceUrl);
  let last = first;
  let maxPoolPending = 0;
  let maxPoolUsed = 0;
  let maxLoopLagP99Ms = 0;
  let samples = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void readInstanceMetrics(instanceUrl).then((sample) => {
      busy = false;
      if (!sample) return;
      samples += 1;
      last = sample;
      maxPoolPending = Math.max(maxPoolPending, sample.poolPending);
      maxPoolUsed = Math.max(maxPoolUsed, sample.poolUsed);
      maxLoopLagP99Ms = Math.max(maxLoopLagP99Ms, sample.loopLagP99Ms);
    });
  }, 1_000);
  return {
    stop: async () => {
      clearInterval(timer);
      last = (await readInstanceMetrics(instanceUrl)) ?? last;
      return {
        served: (last?.requests ?? 0) - (first?.requests ?? 0),
        served5xx: (last?.errors5xx ?? 0) - (first?.errors5xx ?? 0),
        maxPoolPending, maxPoolUsed, maxLoopLagP99Ms, samples };
    },
  };
}
