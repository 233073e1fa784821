import type { TRPC_ERROR_CODE_KEY } from "@trpc/server";

/**
 * Errors of the non-tRPC routes (upload, download, metrics update, exports). Procedures
 * fail with `TRPCClientError<AppRouter>` instead; both carry the same code names so a
 * script can handle them alike.
 */
export type OpsDeskErrorCode = TRPC_ERROR_CODE_KEY | "RANGE_NOT_SATISFIABLE" | "INSUFFICIENT_STORAGE";

// Some routes answer `{ error: { code } }`, others only a status (artifact routes, plain
// text exports): the status decides the code then, as tRPC would have chosen it.
const CODE_BY_STATUS: Record<number, OpsDeskErrorCode> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_SUPPORTED",
  408: "TIMEOUT",
  409: "CONFLICT",
  412: "PRECONDITION_FAILED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  416: "RANGE_NOT_SATISFIABLE",
  422: "UNPROCESSABLE_CONTENT",
  428: "PRECONDITION_REQUIRED",
  429: "TOO_MANY_REQUESTS",
  501: "NOT_IMPLEMENTED",
  502: "BAD_GATEWAY",
  503: "SERVICE_UNAVAILABLE",
  504: "GATEWAY_TIMEOUT",
  507: "INSUFFICIENT_STORAGE",
};

export function codeForStatus(status: number): OpsDeskErrorCode {
  return CODE_BY_STATUS[status] ?? (status >= 500 ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST");
}

export class OpsDeskHttpError extends Error {
  override readonly name = "OpsDeskHttpError";
  constructor(
    readonly status: number,
    readonly code: OpsDeskErrorCode,
    message: string,
    /** Seconds from `Retry-After` (429, 503), else null. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

/** The server could not be reached at all (no HTTP answer). */
export class OpsDeskConnectionError extends Error {
  override readonly name = "OpsDeskConnectionError";
  constructor(
    readonly url: string,
    /** Short and human: "connection refused", "host not found", … */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot reach OpsDesk at ${url}: ${reason}`, options);
  }
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "name lookup failed (DNS)",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  UND_ERR_SOCKET: "connection closed unexpectedly",
  UND_ERR_HEADERS_TIMEOUT: "no answer in time",
  CERT_HAS_EXPIRED: "the server's TLS certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's TLS certificate is self-signed",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's TLS certificate cannot be verified",
};

/**
 * Why a request never got an HTTP answer, or null when it did. Node's fetch reports a
 * refused connection as `TypeError: fetch failed` with the socket error as its cause
 * (sometimes inside an AggregateError, one per address tried), and tRPC wraps that again:
 * so the whole cause chain is searched.
 */
export function networkFailureReason(error: unknown): string | null {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length) {
    const current = queue.shift();
    if (!current || typeof current !== "object" || seen.has(current)) continue;
    seen.add(current);
    if (current instanceof OpsDeskConnectionError) return current.reason;
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && code in NETWORK_REASONS) return NETWORK_REASONS[code]!;
    queue.push((current as { cause?: unknown }).cause);
    if (current instanceof AggregateError) queue.push(...current.errors);
  }
  // Any other "fetch failed" (a port fetch refuses to use, a TLS setup error, …) is still
  // "no answer": its cause says why.
  for (const current of seen) {
    if (current instanceof TypeError && current.message === "fetch failed") {
      const cause = current.cause;
      return cause instanceof Error && cause.message ? cause.message : "the request failed before any answer";
    }
  }
  return null;
}

const CUT_OFF_CODES = new Set(["EPIPE", "ECONNRESET", "ECONNABORTED", "UND_ERR_SOCKET"]);

/** True when a connection was made and then closed under a request still being sent. */
export function isCutOff(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && typeof current === "object" && depth < 6; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && CUT_OFF_CODES.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

export function retryAfterSeconds(value: string | null | undefined): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** Turns a failed response into an OpsDeskHttpError, reading whatever body shape it has. */
export async function httpErrorFrom(response: Response): Promise<OpsDeskHttpError> {
  let code = codeForStatus(response.status);
  let message = "";
  const text = await response.text().catch(() => "");
  // An HTML page (the app's 404 page, a proxy's error page) says nothing a script can use.
  if (!(response.headers.get("content-type") ?? "").includes("html")) {
    try {
      const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
      if (typeof body.error?.message === "string") message = body.error.message;
      if (typeof body.error?.code === "string") code = body.error.code as OpsDeskErrorCode;
    } catch {
      // Not JSON: a plain-text route (the exports answer errors as one line of text).
      message = text.trim().split("\n")[0]?.slice(0, 500) ?? "";
    }
  }
  if (!message) message = `${response.status} ${response.statusText || code}`.trim();
  return new OpsDeskHttpError(response.status, code, message, retryAfterSeconds(response.headers.get("retry-after")));
}
