import type { inferRouterOutputs } from "@trpc/server";
import { useCallback, useEffect, useRef, useState } from "react";
import type { AppRouter } from "../../server/trpc/root";
import { browserTrpc } from "../trpc/lazy";

type SystemInfo = inferRouterOutputs<AppRouter>["system"]["info"];

const REFRESH_EVERY_MS = 15_000;

/**
 * Rendered by the server from the loader's data; with JavaScript it refreshes itself
 * through the same procedure (same types on both sides) every 15 s while the tab is
 * visible, and without it the Refresh link reloads the page. The tRPC client is loaded
 * on the first refresh, not with the page.
 */
export function SystemInfoWidget({ initial }: { initial: SystemInfo }) {
  const [info, setInfo] = useState(initial);
  const [fetching, setFetching] = useState(false);
  const inFlight = useRef(false);

  const refresh = useCallback(async () => {
    if (inFlight.current) return;
    inFlight.current = true;
    setFetching(true);
    try {
      const { client } = await browserTrpc(null);
      setInfo(await client.system.info.query());
    } catch {
      // The last figures stay on screen; the next tick (or Refresh) tries again.
    } finally {
      inFlight.current = false;
      setFetching(false);
    }
  }, []);

  useEffect(() => setInfo(initial), [initial]);
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") void refresh();
    }, REFRESH_EVERY_MS);
    return () => clearInterval(timer);
  }, [refresh]);

  return (
    <section className="card" aria-live="polite">
      <dl className="grid grid-cols-2 gap-2 text-sm">
        <dt className="font-medium">Version</dt>
        <dd data-testid="version">{info.version}</dd>
        <dt className="font-medium">Uptime</dt>
        <dd data-testid="uptime">{info.uptimeSeconds} s</dd>
        <dt className="font-medium">Database</dt>
        <dd data-testid="database">
          {info.database.ok ? `ok (${info.database.latencyMs} ms)` : "not answering"}
        </dd>
        <dt className="font-medium">Server time</dt>
        <dd data-testid="server-time">{info.serverTime}</dd>
      </dl>
      <p className="mt-3 text-sm">
        <a
          href="/status"
          className="link"
          onClick={(event) => {
            event.preventDefault();
            void refresh();
          }}
        >
          Refresh
        </a>
        {fetching ? <span className="ml-2 text-slate-500 dark:text-slate-400">refreshing…</span> : null}
      </p>
    </section>
  );
}
