/** Client-safe formatting for the artifacts panel (sizes in binary units, as the import page). */

const UNITS = ["KB", "MB", "GB", "TB"] as const;

/** "512 B", "1.5 KB", "20.0 MB", "1.2 GB". */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${Math.max(0, Math.round(bytes || 0))} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** Upload speed from bytes sent and milliseconds elapsed: "3.4 MB/s". */
export function formatSpeed(bytes: number, elapsedMs: number): string {
  if (elapsedMs <= 0) return "— MB/s";
  const mbPerSecond = bytes / (1024 * 1024) / (elapsedMs / 1000);
  return `${mbPerSecond >= 10 ? mbPerSecond.toFixed(0) : mbPerSecond.toFixed(1)} MB/s`;
}

/** The first 12 hex digits of a SHA-256: enough to tell files apart at a glance. */
export const shortSha = (sha256: string) => sha256.slice(0, 12);
