import { formatPct, MISSING } from "./format";

/*
 * Server-rendered SVG for the metrics panel. Colours come from `currentColor` and opacity so
 * the graphics follow the page's light or dark text colour; the `od-*` classes let the
 * stylesheet tint them (e.g. `.od-gauge-crit .od-gauge-value { stroke: … }`). No <style>
 * element: inline SVG styles leak into the whole page. No ids: a page shows many of these.
 */

/** Escapes text for XML content and attribute values alike. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** One decimal at most keeps path data small. */
function n(value: number): string {
  return String(Math.round(value * 10) / 10);
}

export interface GaugeOptions {
  label: string;
  valuePct: number | null;
}

/** Thresholds at which the gauge gets a warning/critical class for the stylesheet to colour. */
const WARN_PCT = 75;
const CRIT_PCT = 90;

function gaugeLevel(pct: number): "ok" | "warn" | "crit" {
  if (pct >= CRIT_PCT) return "crit";
  return pct >= WARN_PCT ? "warn" : "ok";
}

/** A semicircle gauge 0–100 %, with the value in the middle and the label under it. */
export function gaugeSvg({ label, valuePct }: GaugeOptions): string {
  const known = typeof valuePct === "number" && Number.isFinite(valuePct);
  const pct = known ? Math.min(100, Math.max(0, valuePct)) : 0;
  const shown = known ? formatPct(valuePct, 0) : MISSING;
  const title = `${label}: ${known ? formatPct(valuePct) : "no data"}`;
  const level = known ? gaugeLevel(pct) : "none";
  // pathLength="100" lets the dash length be the percentage itself, whatever the radius.
  const arc = `d="M10 60A50 50 0 0 1 110 60" pathLength="100" fill="none" stroke-width="10"`;
  const value = known
    ? `<path class="od-gauge-value" ${arc} stroke="currentColor" stroke-dasharray="${n(pct)} 100"/>`
    : "";
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 84" width="120" height="84" role="img" class="od-gauge od-gauge-${level}">` +
    `<title>${escapeXml(title)}</title>` +
    `<path class="od-gauge-track" ${arc} stroke="currentColor" stroke-opacity="0.15"/>` +
    value +
    `<text x="60" y="56" text-anchor="middle" font-size="18" font-weight="600" fill="currentColor">${escapeXml(shown)}</text>` +
    `<text x="60" y="78" text-anchor="middle" font-size="11" fill="currentColor" fill-opacity="0.75">${escapeXml(label)}</text>` +
    `</svg>`
  );
}

export interface SparklinePoint {
  at: Date;
  value: number | null;
}

export interface SparklineOptions {
  label: string;
  width?: number;
  height?: number;
  /** How values read in the title, e.g. formatPct; defaults to 3 significant digits. */
  formatValue?: (value: number) => string;
}

const PAD = 2;

/**
 * A line over time. Nulls break the line (a gap is honest about missing scrapes); a point
 * with no neighbour is drawn as a dot so it does not vanish. Points sharing a pixel column
 * are averaged so a long series cannot make the SVG large.
 */
export function sparklineSvg(points: SparklinePoint[], options: SparklineOptions): string {
  const width = Math.max(20, Math.round(options.width ?? 240));
  const height = Math.max(10, Math.round(options.height ?? 48));
  const format = options.formatValue ?? ((value: number) => String(Number(value.toPrecision(3))));
  const usable = points
    .filter((point) => Number.isFinite(point.at.getTime()))
    .sort((a, b) => a.at.getTime() - b.at.getTime());
  const values = usable.map((point) => point.value).filter(isFiniteNumber);

  const open = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" class="od-sparkline">`;
  if (values.length === 0) {
    return (
      open +
      `<title>${escapeXml(`${options.label}: no data`)}</title>` +
      `<text x="${n(width / 2)}" y="${n(height / 2)}" dominant-baseline="middle" text-anchor="middle" font-size="11" fill="currentColor" fill-opacity="0.6">${escapeXml(`${MISSING} no data`)}</text>` +
      `</svg>`
    );
  }

  const min = Math.min(...values);
  const max = Math.max(...values);
  const last = values[values.length - 1]!;
  const title = `${options.label}: latest ${format(last)}, min ${format(min)}, max ${format(max)}`;
  const columns = toColumns(usable, width);
  const y = (value: number) =>
    max === min ? height / 2 : PAD + (1 - (value - min) / (max - min)) * (height - 2 * PAD);

  const runs = splitAtGaps(columns);
  const path = runs
    .filter((run) => run.length > 1)
    .map((run) => run.map((column, index) => `${index === 0 ? "M" : "L"}${n(column.x)} ${n(y(column.value))}`).join(""))
    .join("");
  const dots = runs
    .filter((run) => run.length === 1)
    .map(([column]) => `<circle cx="${n(column!.x)}" cy="${n(y(column!.value))}" r="1.5" fill="currentColor"/>`)
    .join("");
  return (
    open +
    `<title>${escapeXml(title)}</title>` +
    (path ? `<path class="od-sparkline-line" d="${path}" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round" stroke-linecap="round"/>` : "") +
    dots +
    `</svg>`
  );
}

function isFiniteNumber(value: number | null): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

interface Column {
  x: number;
  value: number | null;
}

/** Places points by time across the width and merges those landing in the same pixel. */
function toColumns(points: SparklinePoint[], width: number): Column[] {
  const first = points[0]!.at.getTime();
  const span = points[points.length - 1]!.at.getTime() - first;
  const columns: { x: number; sum: number; count: number }[] = [];
  for (const point of points) {
    const x = span === 0 ? width / 2 : PAD + Math.round(((point.at.getTime() - first) / span) * (width - 2 * PAD));
    let column = columns[columns.length - 1];
    if (column === undefined || column.x !== x) {
      column = { x, sum: 0, count: 0 };
      columns.push(column);
    }
    if (isFiniteNumber(point.value)) {
      column.sum += point.value;
      column.count++;
    }
  }
  return columns.map((column) => ({ x: column.x, value: column.count > 0 ? column.sum / column.count : null }));
}

function splitAtGaps(columns: Column[]): { x: number; value: number }[][] {
  const runs: { x: number; value: number }[][] = [];
  let current: { x: number; value: number }[] = [];
  for (const column of columns) {
    if (column.value === null) {
      if (current.length > 0) runs.push(current);
      current = [];
    } else {
      current.push({ x: column.x, value: column.value });
    }
  }
  if (current.length > 0) runs.push(current);
  return runs;
}
