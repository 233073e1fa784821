/** Why a Prometheus call failed; each kind maps to a different fix for the operator. */
export type PrometheusErrorKind = "not_configured" | "unreachable" | "timeout" | "http_error" | "bad_response";

export class PrometheusError extends Error {
  readonly kind: PrometheusErrorKind;
  /** HTTP status Prometheus answered with, for `http_error` (and a Prometheus-side timeout). */
  readonly status: number | undefined;

  constructor(kind: PrometheusErrorKind, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PrometheusError";
    this.kind = kind;
    this.status = options.status;
  }
}

/** The tRPC error code DESIGN.md prescribes for each failure of an upstream such as Prometheus. */
export type PrometheusTrpcCode = "PRECONDITION_FAILED" | "GATEWAY_TIMEOUT" | "BAD_GATEWAY";

export function prometheusErrorTrpcCode(kind: PrometheusErrorKind): PrometheusTrpcCode {
  if (kind === "not_configured") return "PRECONDITION_FAILED";
  if (kind === "timeout") return "GATEWAY_TIMEOUT";
  return "BAD_GATEWAY";
}
