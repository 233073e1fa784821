import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../server/trpc/root";
import { trpc } from "../trpc/react";

type SystemInfo = inferRouterOutputs<AppRouter>["system"]["info"];

/**
 * Rendered by the server from the loader's data; with JavaScript it refreshes itself
 * through the same procedure (same types on both sides), and without it the Refresh
 * link reloads the page.
 */
export function SystemInfoWidget({ initial }: { initial: SystemInfo }) {
  const query = trpc.system.info.useQuery(undefined, { initialData: initial, refetchInterval: 15_000 });
  const info = query.data;
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
            void query.refetch();
          }}
        >
          Refresh
        </a>
        {query.isFetching ? <span className="ml-2 text-slate-500 dark:text-slate-400">refreshing…</span> : null}
      </p>
    </section>
  );
}
