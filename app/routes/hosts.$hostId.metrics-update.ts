import { type ActionFunctionArgs, redirect } from "@remix-run/node";
import { TRPCError } from "@trpc/server";
import { callerFor, redirectToLogin } from "../trpc/caller.server";
import { errorState, jsonError, wantsJson } from "../utils/api-response.server";

/**
 * `POST /hosts/:hostId/metrics:update` (rewritten to this route by the HTTP entry, since
 * Remix route segments cannot contain ":"): refresh a host's metrics. JSON (the snapshot)
 * for Bearer clients and `Accept: application/json`; a redirect back to the host page
 * for a plain form post, carrying only the outcome's state (the page words it).
 */
export async function action({ request, params, context }: ActionFunctionArgs) {
  const hostId = Number(params.hostId);
  const json = wantsJson(request);
  const isForm = /form/.test(request.headers.get("content-type") ?? "");
  const formCsrfToken = isForm ? (await request.formData()).get("_csrf") : null;
  const headers = new Headers();
  const caller = await callerFor(request, context, headers, { formCsrfToken });
  const hostPage = `/hosts/${Number.isInteger(hostId) && hostId > 0 ? hostId : ""}`;
  try {
    if (!Number.isInteger(hostId) || hostId <= 0) throw new TRPCError({ code: "NOT_FOUND", message: "No such host." });
    const snapshot = await caller.metrics.update({ hostId });
    if (json) return Response.json(snapshot, { headers: { "Cache-Control": "no-store" } });
    return redirect(`${hostPage}?metrics=updated`, { headers });
  } catch (error) {
    if (json) return jsonError(error);
    if (error instanceof TRPCError && error.code === "UNAUTHORIZED") throw redirectToLogin(new Request(new URL(hostPage, request.url)));
    if (error instanceof TRPCError && error.code === "FORBIDDEN") throw new Response(error.message, { status: 403 });
    if (error instanceof TRPCError && error.code === "NOT_FOUND") throw new Response(error.message, { status: 404 });
    return redirect(`${hostPage}?metrics=${encodeURIComponent(errorState(error) ?? "error")}`, { headers });
  }
}

export const loader = () => new Response("Use POST to update metrics.", { status: 405, headers: { Allow: "POST" } });
