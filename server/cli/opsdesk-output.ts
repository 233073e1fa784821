/** Output helpers of the `opsdesk` CLI: aligned tables, sizes, and the TTY progress line. */

export type Out = { write(text: string): unknown };

/** Columns padded to their widest cell; the last column is not padded (no trailing spaces). */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}

/** `label  value` lines with the labels aligned, for one object. */
export function keyValues(pairs: [string, string][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 1)}  ${v}`.trimEnd()).join("\n") + "\n";
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(bytes)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function dash(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === "" ? "-" : String(value);
}

/**
 * One line on stderr, rewritten in place ("\r" + clear to end of line): bytes, percent
 * and speed. Only for a terminal: in a log file or a pipe, carriage returns are noise,
 * so the caller passes `enabled: false` there and nothing is written.
 */
export function progressLine(stream: Out, label: string, enabled: boolean) {
  const startedAt = Date.now();
  let lastDrawn = 0;
  let drew = false;
  const draw = (loaded: number, total: number | null) => {
    const seconds = Math.max((Date.now() - startedAt) / 1000, 0.001);
    const size = total !== null ? `${formatBytes(loaded)} / ${formatBytes(total)}` : formatBytes(loaded);
    const percent = total ? `  ${Math.min(100, Math.floor((loaded / total) * 100))}%` : "";
    // The first fraction of a second measures buffering, not the link: no speed yet.
    const speed = seconds >= 0.25 ? `  ${formatBytes(loaded / seconds)}/s` : "";
    stream.write(`\r${label}  ${size}${percent}${speed}\x1b[K`);
    drew = true;
  };
  return {
    update(loaded: number, total: number | null) {
      if (!enabled) return;
      // Redrawing on every 64 KiB chunk would flood a slow terminal (an SSH session).
      const now = Date.now();
      if (now - lastDrawn < 100) return;
      lastDrawn = now;
      draw(loaded, total);
    },
    finish(loaded: number, total: number | null) {
      if (!enabled) return;
      draw(loaded, total);
      stream.write("\n");
    },
    /** Ends the line on failure so the error message starts on a line of its own. */
    abandon() {
      if (enabled && drew) stream.write("\n");
    },
  };
}
