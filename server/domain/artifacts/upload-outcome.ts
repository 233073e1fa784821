/*
 * The outcome of an upload sent as a plain form post (no JavaScript): the upload route
 * redirects back to the host page with `?artifact=<outcome>`, and the page words it. Only
 * these fixed names travel in the URL, never a message. Client-safe: no Node imports.
 */

export const UPLOAD_FAILURES = ["too_large", "no_file", "stalled", "store_full", "refused", "failed"] as const;
export type UploadFailure = (typeof UPLOAD_FAILURES)[number];
export type UploadOutcome = "uploaded" | UploadFailure;

/** The outcome named by the HTTP status the same upload answers an API client with. */
export function uploadFailureOfStatus(status: number): UploadFailure {
  switch (status) {
    case 413:
      return "too_large";
    case 400:
      return "no_file";
    case 408:
      return "stalled";
    case 507:
      return "store_full";
    case 403:
      return "refused";
    default:
      return "failed";
  }
}

export function parseUploadOutcome(raw: string | null): UploadOutcome | null {
  if (raw === "uploaded") return raw;
  return (UPLOAD_FAILURES as readonly string[]).includes(raw ?? "") ? (raw as UploadFailure) : null;
}
