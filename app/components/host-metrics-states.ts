/*
 * How the metrics panel words the outcome of "Update metrics". Client-safe (no server
 * imports): the no-JavaScript path words the `?metrics=<state>` the form route redirects
 * with, and the JavaScript path words the tRPC mutation's error the same way.
 */

export const METRICS_FAILURE_STATES = [
  "not_configured",
  "unreachable",
  "timeout",
  "http_error",
  "bad_response",
  "target_down",
  "no_series",
] as const;
export type MetricsFailureState = (typeof METRICS_FAILURE_STATES)[number];

/** What `?metrics=` may carry: "updated", a failure state, or "error" (a failure without a state). */
export type MetricsFlashState = "updated" | MetricsFailureState | "error";

export function parseMetricsFlash(raw: string | null): MetricsFlashState | null {
  if (raw === "updated" || raw === "error") return raw;
  return (METRICS_FAILURE_STATES as readonly string[]).includes(raw ?? "") ? (raw as MetricsFailureState) : null;
}

/** What the wording needs to know about this host and the settings. */
export type MetricsWordingContext = { timeoutSeconds: string; instance: string };

/** The sentence a person reads for each outcome. */
export function metricsStateMessage(state: MetricsFlashState, context: MetricsWordingContext): string {
  switch (state) {
    case "updated":
      return "Metrics updated.";
    case "not_configured":
      return "Prometheus is not configured — an admin can set it in Settings.";
    case "timeout":
      return `Prometheus did not answer within ${context.timeoutSeconds} s. The last good metrics are kept; try again, or an admin can raise the timeout in Settings.`;
    case "unreachable":
      return "Prometheus could not be reached — check the Prometheus URL in Settings and that Prometheus is running. The last good metrics are kept.";
    case "http_error":
      return "Prometheus answered with an HTTP error — check the Prometheus URL in Settings. The last good metrics are kept.";
    case "bad_response":
      return "Prometheus answered with something that is not a Prometheus API response — check that the URL in Settings points to Prometheus itself. The last good metrics are kept.";
    case "target_down":
      return "node_exporter is down (up == 0): Prometheus cannot scrape this host. The last good metrics are kept.";
    case "no_series":
      return `Prometheus has no series for instance ${context.instance} — check the host's Prometheus instance label.`;
    case "error":
      return "The metrics could not be updated. Try again in a moment.";
  }
}

/**
 * The state behind a failed `metrics.update` call. The tRPC error shape carries the code
 * and the server's message but not the state itself, so it is read from both; null when
 * the failure is not about Prometheus (session, permission, server error).
 */
export function metricsStateOfError(code: string | undefined, message: string): MetricsFailureState | null {
  switch (code) {
    case "GATEWAY_TIMEOUT":
      return "timeout";
    case "PRECONDITION_FAILED":
      return /no series/i.test(message) ? "no_series" : "not_configured";
    case "BAD_GATEWAY":
      if (/up == 0/.test(message)) return "target_down";
      if (/could not reach/i.test(message)) return "unreachable";
      if (/answered HTTP \d/i.test(message)) return "http_error";
      return "bad_response";
    default:
      return null;
  }
}

/** States whose short wording leaves out what the server's own message says (the address, the status…). */
export function serverDetailHelps(state: MetricsFailureState | null): boolean {
  return state === null || state === "unreachable" || state === "http_error" || state === "bad_response";
}
