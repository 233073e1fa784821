import type { AppLoadContext } from "@remix-run/node";
import { type Capability, roleCan } from "../../server/auth/roles";
import type { SessionUser } from "../../server/auth/session-user";
import { redirectToLogin, trpcContextFor } from "../trpc/caller.server";

/**
 * Guards for loaders: anonymous users are sent to /login with a return path; a user whose
 * role lacks the capability gets a 403 page. Procedures enforce the same rules again.
 */
export async function requireUser(request: Request, context: AppLoadContext, resHeaders?: Headers): Promise<SessionUser> {
  const ctx = await trpcContextFor(request, context, resHeaders);
  if (!ctx.user) throw redirectToLogin(request);
  return ctx.user;
}

export async function requireCapability(
  request: Request,
  context: AppLoadContext,
  capability: Capability,
  resHeaders?: Headers,
): Promise<SessionUser> {
  const user = await requireUser(request, context, resHeaders);
  if (!roleCan(user.role, capability)) {
    throw new Response(`Your role (${user.role}) cannot open this page.`, { status: 403 });
  }
  return user;
}
