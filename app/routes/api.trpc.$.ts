import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "../../server/trpc/root";
import { trpcContextFor } from "../trpc/caller.server";

// A batch of many calls is one request but many procedure runs; cap it.
const MAX_BATCH_SIZE = 20;

function handle({ request, context }: LoaderFunctionArgs | ActionFunctionArgs) {
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req: request,
    router: appRouter,
    maxBatchSize: MAX_BATCH_SIZE,
    createContext: ({ resHeaders }) => trpcContextFor(request, context, resHeaders),
    responseMeta: () => ({ headers: { "Cache-Control": "no-store" } }),
  });
}

export const loader = (args: LoaderFunctionArgs) => handle(args);
export const action = (args: ActionFunctionArgs) => handle(args);
