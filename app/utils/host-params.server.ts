import { TRPCError } from "@trpc/server";
import { parseHostId } from "../components/host-utils";
import { pageError } from "../trpc/caller.server";

/** The `:hostId` of a host page, or the 404 page for anything that is not a host id. */
export function hostIdOr404(raw: string | undefined, request: Request): number {
  const id = parseHostId(raw);
  if (id === null) pageError(new TRPCError({ code: "NOT_FOUND", message: "There is no host with this id." }), request);
  return id;
}
