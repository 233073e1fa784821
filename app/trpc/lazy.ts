import type { BrowserClient, describeError } from "./browser-client";

/**
 * Widgets that call tRPC from the browser (status refresh, metrics update, SSH copy
 * record) get the client through here. The import is dynamic so that the client's code
 * is a separate chunk: pages that never call a procedure do not download it, and the ones
 * that do render and hydrate without waiting for it (ADR 024).
 */
type BrowserTrpc = { client: BrowserClient; describeError: typeof describeError };

let loading: Promise<typeof import("./browser-client")> | null = null;
const clients = new Map<string | null, BrowserClient>();

function load() {
  loading ??= import("./browser-client").catch((error: unknown) => {
    loading = null; // a failed download (slow link dropped) is retried on the next call
    throw error;
  });
  return loading;
}

/** The client for this CSRF token, loading its module on the first call. */
export async function browserTrpc(csrfToken: string | null): Promise<BrowserTrpc> {
  const module = await load();
  let client = clients.get(csrfToken);
  if (!client) {
    client = module.createBrowserClient(csrfToken);
    clients.set(csrfToken, client);
  }
  return { client, describeError: module.describeError };
}

/** Starts the download when the browser is idle, so the first click does not wait for it. */
export function preloadBrowserTrpc(): () => void {
  const start = () => void load().catch(() => undefined);
  if (typeof window.requestIdleCallback === "function") {
    const handle = window.requestIdleCallback(start, { timeout: 5_000 });
    return () => window.cancelIdleCallback(handle);
  }
  const timer = setTimeout(start, 1_000);
  return () => clearTimeout(timer);
}
