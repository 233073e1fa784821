import { DATABASE_RETRY_AFTER_SECONDS, toTrpcError } from "../errors";
import type { RequestContext } from "../http/request-context";
import { type ContextOptions, createTrpcContext, type TrpcContext } from "./context";

/**
 * A procedure context for one HTTP request: who made it (resolved once per request) and
 * its CSRF check. The tRPC endpoint and the pages' callers both start here, so a page and
 * a script see the same authorization, validation and audit. Headers a procedure sets
 * (Retry-After …) go to `resHeaders`.
 */
export async function trpcContextFor(
  request: Request,
  context: RequestContext,
  resHeaders: Headers = new Headers(),
  options: ContextOptions = {},
): Promise<TrpcContext> {
  const identity = await context.identity().catch((error: unknown) => {
    // Who the caller is cannot be checked without the database: 503, not "signed out".
    const mapped = toTrpcError(error);
    if (mapped.code === "SERVICE_UNAVAILABLE") resHeaders.set("Retry-After", String(DATABASE_RETRY_AFTER_SECONDS));
    throw mapped;
  });
  return createTrpcContext(context, request, resHeaders, identity, options);
}
