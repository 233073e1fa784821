import { type ActionFunctionArgs, redirect } from "@remix-run/node";
import { roleCan } from "../../server/auth/roles";
import { dryRunFromForm, importMaxBytes, readImportForm } from "../utils/host-import.server";

/**
 * POST /hosts/import/upload — the dry-run form's multipart body sent by XMLHttpRequest
 * (for upload progress). Same checks and procedure as the page's action; answers JSON:
 * `{ runId }`, or `{ error }` with the status (401, 403, 400, 413 …).
 */
export async function action({ request, context }: ActionFunctionArgs) {
  if (request.method !== "POST") return json({ error: "Use POST." }, 405, { Allow: "POST" });
  const identity = await context.identity();
  // Who is asking is settled before a byte of the upload is read.
  if (!identity.user) return json({ error: "Sign in to import hosts." }, 401);
  if (!roleCan(identity.user.role, "hosts.write")) {
    return json({ error: `Your role (${identity.user.role}) cannot import hosts.` }, 403);
  }
  const resHeaders = new Headers();
  const read = await readImportForm(request, await importMaxBytes(context));
  if (!read.ok) return json({ error: read.message }, read.status);
  const outcome = await dryRunFromForm(request, context, read.form, resHeaders);
  if (!outcome.ok) return json({ error: outcome.message }, outcome.status, resHeaders);
  return json({ runId: outcome.runId }, 200, resHeaders);
}

/** A GET (a reload of this address) goes to the page. */
export function loader() {
  return redirect("/hosts/import");
}

function json(body: { runId: string } | { error: string }, status: number, headers?: HeadersInit): Response {
  const out = new Headers(headers);
  out.set("Content-Type", "application/json; charset=utf-8");
  out.set("Cache-Control", "no-store");
  return new Response(JSON.stringify(body), { status, headers: out });
}
