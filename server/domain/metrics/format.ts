/** Shown wherever a value is unknown, so "no data" never looks like a zero. */
export const MISSING = "—";

function isNumber(value: number | null | undefined): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** "42.5%"; whole numbers keep no decimals ("100%") so columns stay short. */
export function formatPct(value: number | null | undefined, fractionDigits = 1): string {
  if (!isNumber(value)) return MISSING;
  // Math.round rather than toFixed alone: 7.05 is stored as 7.0499… and toFixed gives "7.0".
  const factor = 10 ** fractionDigits;
  const rounded = Math.round(value * factor) / factor;
  return `${Number.isInteger(rounded) ? rounded.toFixed(0) : rounded.toFixed(fractionDigits)}%`;
}

// Decimal (SI) units, as network interfaces and Grafana's "bytes/sec(SI)" count them.
const RATE_UNITS = ["B/s", "kB/s", "MB/s", "GB/s", "TB/s", "PB/s"] as const;

/** "1.5 MB/s", three significant digits at most. */
export function formatBytesPerSecond(value: number | null | undefined): string {
  if (!isNumber(value)) return MISSING;
  let scaled = Math.max(0, value);
  let unit = 0;
  while (scaled >= 999.5 && unit < RATE_UNITS.length - 1) {
    scaled /= 1000;
    unit++;
  }
  const text = unit === 0 || scaled >= 100 ? scaled.toFixed(0) : scaled >= 10 ? scaled.toFixed(1) : scaled.toFixed(2);
  // Drop trailing zeros: "1.50 MB/s" reads as more precision than there is.
  return `${text.includes(".") ? text.replace(/\.?0+$/, "") : text} ${RATE_UNITS[unit]}`;
}

const DURATION_UNITS = [
  ["d", 86_400],
  ["h", 3_600],
  ["min", 60],
  ["s", 1],
] as const;

/** The two largest non-zero units: "3 d 4 h", "4 h 12 min", "45 s". */
export function formatDuration(seconds: number | null | undefined): string {
  if (!isNumber(seconds)) return MISSING;
  let rest = Math.max(0, Math.floor(seconds));
  const parts: string[] = [];
  for (const [unit, size] of DURATION_UNITS) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || parts.length > 0) parts.push(`${count} ${unit}`);
    if (parts.length === 2) break;
  }
  if (parts.length === 0) return "0 s";
  // "3 d 0 h" says nothing more than "3 d".
  return parts.filter((part, index) => index === 0 || !part.startsWith("0 ")).join(" ");
}

const RELATIVE_STEPS = [
  ["year", 365 * 86_400],
  ["month", 30 * 86_400],
  ["day", 86_400],
  ["hour", 3_600],
  ["minute", 60],
  ["second", 1],
] as const;

const relative = new Intl.RelativeTimeFormat("en", { numeric: "always" });

/** "5 minutes ago"; small clock skew between app instances reads as "just now", not "in 2 seconds". */
export function formatAgo(from: Date, now: Date): string {
  const deltaSeconds = (now.getTime() - from.getTime()) / 1000;
  if (!Number.isFinite(deltaSeconds)) return MISSING;
  if (Math.abs(deltaSeconds) < 10) return "just now";
  const magnitude = Math.abs(deltaSeconds);
  for (const [unit, size] of RELATIVE_STEPS) {
    if (magnitude >= size) {
      const count = Math.floor(magnitude / size);
      return relative.format(deltaSeconds > 0 ? -count : count, unit);
    }
  }
  return "just now";
}
