import { type ActionFunctionArgs, redirect } from "@remix-run/node";
import { appendCookies, clearedSessionCookies } from "../utils/auth.server";
import { callerFor, pageError } from "../trpc/caller.server";

// POST only: signing out is a state change.
export async function action({ request, context }: ActionFunctionArgs) {
  const form = await request.formData();
  const headers = new Headers();
  const caller = await callerFor(request, context, headers, { formCsrfToken: form.get("_csrf") });
  if (caller.ctx.user) await caller.auth.logout().catch((error) => pageError(error, request));
  appendCookies(headers, clearedSessionCookies(request));
  return redirect("/login", { headers });
}

export const loader = () => redirect("/");
