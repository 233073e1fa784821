import { isTRPCClientError, networkFailureReason, OpsDeskHttpError } from "../client";

/** Exit codes of `opsdesk` (documented in `opsdesk --help` and the README). */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  unauthorized: 3,
  forbidden: 4,
  conflict: 5,
  rateLimited: 6,
  notFound: 7,
  unreachable: 8,
} as const;

export const TOKEN_REFUSED = "The token was refused (401). Create one on /account and set OPSDESK_TOKEN.";

/** Wrong command line: exit 2 with the command's usage. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

/** A failure already worded for the user, with its exit code. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

type HttpFacts = { status: number; code: string; message: string; retryAfter: string | null };

/** Status, code and message of a failed procedure or route call; null for anything else. */
function httpFacts(error: unknown): HttpFacts | null {
  if (error instanceof OpsDeskHttpError) {
    return {
      status: error.status,
      code: error.code,
      message: error.message,
      retryAfter: error.retryAfterSeconds === null ? null : String(error.retryAfterSeconds),
    };
  }
  if (isTRPCClientError(error)) {
    // tRPC keeps the raw response in `meta`: the only place Retry-After can be read from.
    const response = error.meta?.response;
    const headers = response instanceof Response ? response.headers : null;
    const data = error.data as { httpStatus?: unknown; code?: unknown } | undefined;
    if (typeof data?.httpStatus === "number" && typeof data.code === "string") {
      return { status: data.httpStatus, code: data.code, message: error.message, retryAfter: headers?.get("retry-after") ?? null };
    }
    if (response instanceof Response && !response.ok) {
      // An answer that is not tRPC's JSON: a proxy's error page, or not OpsDesk at all.
      return {
        status: response.status,
        code: "HTTP_ERROR",
        message: `The server answered HTTP ${response.status} ${response.statusText} instead of an OpsDesk response.`,
        retryAfter: headers?.get("retry-after") ?? null,
      };
    }
  }
  return null;
}

export function describeFailure(error: unknown, url: string): { exitCode: number; message: string } {
  if (error instanceof UsageError) return { exitCode: EXIT.usage, message: `${error.message}\n\n${error.usage}` };
  if (error instanceof CliFailure) return { exitCode: error.exitCode, message: error.message };
  const unreachable = networkFailureReason(error);
  if (unreachable) return { exitCode: EXIT.unreachable, message: `Cannot reach OpsDesk at ${url}: ${unreachable}` };
  const http = httpFacts(error);
  if (http) {
    switch (http.status) {
      case 401:
        return { exitCode: EXIT.unauthorized, message: TOKEN_REFUSED };
      case 403:
        return { exitCode: EXIT.forbidden, message: `Forbidden (403): ${http.message}` };
      case 404:
        return { exitCode: EXIT.notFound, message: `Not found (404): ${http.message}` };
      case 409:
        return { exitCode: EXIT.conflict, message: `Conflict (409): ${http.message}` };
      case 429: {
        const wait = http.retryAfter ? ` Retry after ${http.retryAfter} seconds.` : "";
        return { exitCode: EXIT.rateLimited, message: `Rate limited (429): ${http.message}${wait}` };
      }
      default:
        return { exitCode: EXIT.failed, message: `${http.message} (${http.code}, HTTP ${http.status})` };
    }
  }
  const errno = error as NodeJS.ErrnoException;
  if (errno?.code === "ENOENT" && errno.path) return { exitCode: EXIT.failed, message: `No such file: ${errno.path}` };
  if (errno?.code === "EEXIST" && errno.path) {
    return { exitCode: EXIT.failed, message: `${errno.path} already exists; choose another name with -o.` };
  }
  if (errno?.code === "EACCES" && errno.path) return { exitCode: EXIT.failed, message: `Permission denied: ${errno.path}` };
  return { exitCode: EXIT.failed, message: error instanceof Error ? error.message : String(error) };
}
