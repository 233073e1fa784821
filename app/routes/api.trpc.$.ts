import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { DATABASE_RETRY_AFTER_SECONDS } from "../../server/errors";
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
    responseMeta: ({ errors }) => ({
      headers: {
        "Cache-Control": "no-store",
        // The database is away: tell scripts when to try again (ADR 017).
        ...(errors.some((e) => e.code === "SERVICE_UNAVAILABLE") ? { "Retry-After": String(DATABASE_RETRY_AFTER_SECONDS) } : {}),
      },
    }),
  });
}

export const loader = (args: LoaderFunctionArgs) => handle(args);
export const action = (args: ActionFunctionArgs) => handle(args);
