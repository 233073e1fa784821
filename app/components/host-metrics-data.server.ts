import { roleCan, type Role } from "../../server/auth/roles";
import { formatAgo, formatBytesPerSecond, formatDuration, formatPct, MISSING } from "../../server/domain/metrics/format";
import { gaugeSvg, sparklineSvg } from "../../server/domain/metrics/svg";
import type { MetricsSnapshot } from "../../server/services/metrics/snapshots";
import type { EffectiveSettings } from "../../server/services/settings.service";
import type { callerFor } from "../trpc/caller.server";
import { type MetricsFlashState, parseMetricsFlash } from "./host-metrics-states";

type Caller = Awaited<ReturnType<typeof callerFor>>;
type MetricName = keyof MetricsSnapshot["values"];

/** How each value is named when a partial snapshot says what is missing. */
const VALUE_LABELS: Record<MetricName, string> = {
  cpuPct: "CPU",
  memPct: "memory",
  diskPct: "disk",
  load1: "load 1",
  load5: "load 5",
  load15: "load 15",
  uptimeSeconds: "uptime",
  netRxBps: "network receive",
  netTxBps: "network transmit",
};

export type CurrentMetrics = {
  updatedBy: string;
  collectedAt: string;
  expiresAt: string;
  ago: string;
  /** Labels of the values Prometheus did not have (a `partial` outcome). */
  missing: string[];
  /** Server-rendered SVG (escaped by svg.ts), one per gauge. */
  gauges: { key: string; svg: string }[];
  sparkline: string;
  /** How many snapshots the sparkline is drawn from. */
  historyCount: number;
  text: { label: string; value: string }[];
};

export type MetricsPanelData = {
  canUpdate: boolean;
  timeoutSeconds: string;
  instance: string;
  current: CurrentMetrics | null;
  /** When the newest (expired) snapshot stopped being current, if there is no current one. */
  expiredAt: string | null;
  flash: MetricsFlashState | null;
};

const number = (value: number | null) => (typeof value === "number" && Number.isFinite(value) ? String(Number(value.toFixed(2))) : MISSING);

/**
 * Everything the metrics panel shows, rendered on the server: the gauges and the sparkline
 * are SVG strings, the values text, so the browser needs no charting code.
 */
export async function loadMetricsPanel(
  caller: Caller,
  options: { hostId: number; role: Role; instance: string; settings: EffectiveSettings; url: URL },
): Promise<MetricsPanelData> {
  const { hostId } = options;
  const latest = await caller.metrics.latest({ hostId });
  const history = latest ? await caller.metrics.history({ hostId, limit: 120 }) : [];
  const expiredAt = latest ? null : await caller.metrics.lastExpiredAt({ hostId });
  return {
    canUpdate: roleCan(options.role, "metrics.update"),
    timeoutSeconds: String(Number((options.settings["prometheus.timeoutMs"] / 1000).toFixed(1))),
    instance: options.instance,
    current: latest ? currentMetrics(latest, history) : null,
    expiredAt,
    flash: parseMetricsFlash(options.url.searchParams.get("metrics")),
  };
}

function currentMetrics(latest: MetricsSnapshot, history: MetricsSnapshot[]): CurrentMetrics {
  const v = latest.values;
  const missing = (Object.keys(VALUE_LABELS) as MetricName[]).filter((key) => v[key] === null || v[key] === undefined);
  return {
    updatedBy: latest.updatedBy.email,
    collectedAt: latest.collectedAt,
    expiresAt: latest.expiresAt,
    ago: formatAgo(new Date(latest.collectedAt), new Date()),
    missing: missing.map((key) => VALUE_LABELS[key]),
    gauges: [
      { key: "cpu", svg: gaugeSvg({ label: "CPU", valuePct: v.cpuPct }) },
      { key: "memory", svg: gaugeSvg({ label: "Memory", valuePct: v.memPct }) },
      { key: "disk", svg: gaugeSvg({ label: "Disk", valuePct: v.diskPct }) },
    ],
    sparkline: sparklineSvg(
      history.map((snapshot) => ({ at: new Date(snapshot.collectedAt), value: snapshot.values.cpuPct })),
      { label: "CPU %", width: 240, height: 48, formatValue: (value) => formatPct(value) },
    ),
    historyCount: history.length,
    text: [
      { label: "Load 1 / 5 / 15", value: `${number(v.load1)} / ${number(v.load5)} / ${number(v.load15)}` },
      { label: "Uptime", value: formatDuration(v.uptimeSeconds) },
      { label: "Network receive", value: formatBytesPerSecond(v.netRxBps) },
      { label: "Network transmit", value: formatBytesPerSecond(v.netTxBps) },
    ],
  };
}
