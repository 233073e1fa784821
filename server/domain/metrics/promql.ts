/** The values the metrics panel shows; order is the order queries are sent. */
export const NODE_METRIC_NAMES = [
  "cpuPct",
  "memPct",
  "diskPct",
  "load1",
  "load5",
  "load15",
  "uptimeSeconds",
  "netRxBps",
  "netTxBps",
] as const;

export type NodeMetricName = (typeof NODE_METRIC_NAMES)[number];

export type NodeQueries = { up: string } & Record<NodeMetricName, string>;

const GO_ESCAPES: Record<string, string> = { "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Escapes a value for a double-quoted PromQL string. PromQL uses Go string syntax, so an
 * unescaped quote or backslash in a host's instance label would end the selector early
 * (and let the label inject matchers); other control characters become \xHH escapes.
 */
export function escapePromqlString(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what must be escaped
  return value.replace(/[\\"\x00-\x1f\x7f]/g, (char) => {
    return GO_ESCAPES[char] ?? `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

/**
 * node_exporter queries for one instance. Every query is aggregated (max/avg/sum) so it
 * yields at most one sample even when the same instance is scraped by two jobs.
 */
export function buildNodeQueries(instance: string): NodeQueries {
  const i = `instance="${escapePromqlString(instance)}"`;
  // rootfs is the initramfs duplicate of "/" on some kernels; it would shadow the real disk.
  const root = `${i},mountpoint="/",fstype!="rootfs"`;
  const nic = `${i},device!="lo"`;
  return {
    up: `max(up{${i}})`,
    cpuPct: `100 * (1 - avg(rate(node_cpu_seconds_total{${i},mode="idle"}[5m])))`,
    memPct: `100 * (1 - max(node_memory_MemAvailable_bytes{${i}}) / max(node_memory_MemTotal_bytes{${i}}))`,
    diskPct: `100 * (1 - max(node_filesystem_avail_bytes{${root}}) / max(node_filesystem_size_bytes{${root}}))`,
    load1: `max(node_load1{${i}})`,
    load5: `max(node_load5{${i}})`,
    load15: `max(node_load15{${i}})`,
    uptimeSeconds: `max(time() - node_boot_time_seconds{${i}})`,
    netRxBps: `sum(rate(node_network_receive_bytes_total{${nic}}[5m]))`,
    netTxBps: `sum(rate(node_network_transmit_bytes_total{${nic}}[5m]))`,
  };
}
