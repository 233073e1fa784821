import type { AppLoadContext } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import type { ContextOptions } from "../../server/trpc/context";
import { trpcContextFor } from "../../server/trpc/request-context";

export { trpcContextFor };
import { createCaller } from "../../server/trpc/root";

/**
 * Loaders and actions call procedures through a caller with the request's own context
 * (trpcContextFor): a page and a script see the same authorization, validation and audit.
 */
export async function callerFor(
  request: Request,
  context: AppLoadContext,
  resHeaders?: Headers,
  options?: ContextOptions,
) {
  const ctx = await trpcContextFor(request, context, resHeaders, options);
  return Object.assign(createCaller(ctx), { ctx });
}

/**
 * Turns a procedure's error into what a page should do: sign in, or an error page with
 * the right status and the procedure's own message.
 */
export function pageError(error: unknown, request: Request): never {
  if (error instanceof TRPCError) {
    if (error.code === "UNAUTHORIZED") throw redirectToLogin(request);
    throw new Response(error.message, { status: getHTTPStatusCodeFromError(error), statusText: error.code });
  }
  throw error;
}

export function redirectToLogin(request: Request): Response {
  const url = new URL(request.url);
  return redirect(`/login?redirectTo=${encodeURIComponent(url.pathname + url.search)}`);
}

/** A user-facing message for a failed form submission (field errors come separately). */
export function formError(error: unknown): { message: string; fieldErrors: Record<string, string[] | undefined> | null; status: number } {
  if (error instanceof TRPCError) {
    const cause = error.cause as { issues?: unknown } | undefined;
    const fieldErrors =
      cause && typeof cause === "object" && "issues" in cause
        ? fieldErrorsFromIssues(cause.issues as { path: PropertyKey[]; message: string }[])
        : null;
    return { message: fieldErrors ? "Check the highlighted fields." : error.message, fieldErrors, status: getHTTPStatusCodeFromError(error) };
  }
  throw error;
}

function fieldErrorsFromIssues(issues: { path: PropertyKey[]; message: string }[]) {
  const out: Record<string, string[]> = {};
  for (const issue of issues) {
    const key = String(issue.path[0] ?? "form");
    out[key] = [...(out[key] ?? []), issue.message];
  }
  return out;
}
