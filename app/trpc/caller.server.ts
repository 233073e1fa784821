import type { AppLoadContext } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { authenticate } from "../../server/auth/authenticate";
import { createTrpcContext, type TrpcContext } from "../../server/trpc/context";
import { createCaller } from "../../server/trpc/root";

/**
 * Loaders and actions call procedures through this caller, with the request's own
 * context: a page and a script see the same authorization, validation and audit.
 */
export async function trpcContextFor(
  request: Request,
  context: AppLoadContext,
  resHeaders: Headers = new Headers(),
): Promise<TrpcContext> {
  const identity = await authenticate(request, context.em, context.runtime.config, resHeaders);
  return createTrpcContext(context, request, resHeaders, identity);
}

export async function callerFor(request: Request, context: AppLoadContext, resHeaders?: Headers) {
  return createCaller(await trpcContextFor(request, context, resHeaders));
}

/**
 * Turns a procedure's error into what a page should do: sign in, or an error page with
 * the right status and the procedure's own message.
 */
export function pageError(error: unknown, request: Request): never {
  if (error instanceof TRPCError) {
    if (error.code === "UNAUTHORIZED") {
      const url = new URL(request.url);
      throw redirect(`/login?redirectTo=${encodeURIComponent(url.pathname + url.search)}`);
    }
    throw new Response(error.message, { status: getHTTPStatusCodeFromError(error), statusText: error.code });
  }
  throw error;
}
