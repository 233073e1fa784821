import type { UploadOutcome } from "../../server/domain/artifacts/upload-outcome";

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

/** What a plain form post's upload outcome (`?artifact=`) tells the reader. */
export function uploadOutcomeNotice(outcome: UploadOutcome, maxBytes: number): { ok: boolean; text: string } {
  switch (outcome) {
    case "uploaded":
      return { ok: true, text: "Uploaded." };
    case "too_large":
      return { ok: false, text: `The file is larger than the upload limit of ${formatSize(maxBytes)}; nothing was stored.` };
    case "no_file":
      return { ok: false, text: "No file arrived, or it could not be read; nothing was stored. Choose the file and try again." };
    case "stalled":
      return { ok: false, text: "The upload stalled (nothing arrived for a while), so nothing was stored. Try again." };
    case "store_full":
      return { ok: false, text: "The artifact store is full; nothing was stored. Ask an admin to free space." };
    case "refused":
      // A stale page's CSRF token, most often: the page this redirect loads has a fresh one.
      return { ok: false, text: "The upload was refused because the page was out of date; nothing was stored. Choose the file and upload again." };
    case "failed":
      return { ok: false, text: "The upload failed on the server; nothing was stored. Try again." };
  }
}
