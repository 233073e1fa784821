import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { DomainError } from "../../server/errors";
import { rateLimitHeaders, RateLimitedError } from "../../server/services/rate-limit.service";

/** Scripts (Bearer) and fetch calls asking for JSON get JSON; plain form posts get redirects. */
export function wantsJson(request: Request): boolean {
  return (
    /^Bearer\s/i.test(request.headers.get("authorization") ?? "") ||
    (request.headers.get("accept") ?? "").includes("application/json")
  );
}

/** A procedure error as the JSON a resource route answers: `{ error: { code, message, state? } }`. */
export function jsonError(error: unknown): Response {
  if (!(error instanceof TRPCError)) throw error;
  const cause = error.cause instanceof DomainError ? error.cause : null;
  const headers = new Headers({ "Cache-Control": "no-store" });
  if (error.cause instanceof RateLimitedError) {
    for (const [k, v] of Object.entries(rateLimitHeaders(error.cause.state))) headers.set(k, v);
  }
  return Response.json(
    { error: { code: error.code, message: error.message, ...(cause?.details?.state ? { state: cause.details.state } : {}) } },
    { status: getHTTPStatusCodeFromError(error), headers },
  );
}

/** The `state` a DomainError carries (e.g. "timeout"), for pages that word each state. */
export function errorState(error: unknown): string | null {
  if (error instanceof TRPCError && error.cause instanceof DomainError) {
    const state = error.cause.details?.state;
    return typeof state === "string" ? state : null;
  }
  return null;
}
