import type { LoaderFunctionArgs } from "@remix-run/node";
import { TRPCError } from "@trpc/server";
import { parseHostId } from "../components/host-utils";
import { callerFor, pageError } from "../trpc/caller.server";
import { requireCapability } from "./guards.server";

/** The `:hostId` of a host page, or the 404 page for anything that is not a host id. */
export function hostIdOr404(raw: string | undefined, request: Request): number {
  const id = parseHostId(raw);
  if (id === null) pageError(new TRPCError({ code: "NOT_FOUND", message: "There is no host with this id." }), request);
  return id;
}

/** The loader of a page that changes one host: write access, the host, the form's CSRF token. */
export async function loadHostForWrite({ request, context, params }: LoaderFunctionArgs) {
  await requireCapability(request, context, "hosts.write");
  const id = hostIdOr404(params.hostId, request);
  const identity = await context.identity();
  const caller = await callerFor(request, context);
  const host = await caller.hosts.get({ id }).catch((e) => pageError(e, request));
  return { host, csrfToken: identity.csrfToken };
}
