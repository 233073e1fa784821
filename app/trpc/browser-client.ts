import { createTRPCClient, httpBatchLink, isTRPCClientError } from "@trpc/client";
import type { AppRouter } from "../../server/trpc/root";

/**
 * The browser's tRPC client (plain `@trpc/client`, no query cache). Never imported
 * statically by a page: `app/trpc/lazy.ts` loads this module on first use, so it is a
 * chunk of its own that no first paint waits for.
 */
export function createBrowserClient(csrfToken: string | null) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: "/api/trpc",
        headers: () => (csrfToken ? { "x-csrf-token": csrfToken } : {}),
      }),
    ],
  });
}

export type BrowserClient = ReturnType<typeof createBrowserClient>;

/** A failed call's tRPC code and domain state (see the errorFormatter in server/trpc/init.ts). */
export function describeError(error: unknown): { code: string | null; state: string | null; message: string } {
  if (!isTRPCClientError<AppRouter>(error)) {
    return { code: null, state: null, message: error instanceof Error ? error.message : String(error) };
  }
  const data = error.data as { code?: string; state?: string | null } | undefined;
  return { code: data?.code ?? null, state: data?.state ?? null, message: error.message };
}
