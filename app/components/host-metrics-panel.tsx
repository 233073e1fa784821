import { useRevalidator } from "@remix-run/react";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { browserTrpc, preloadBrowserTrpc } from "../trpc/lazy";
import { DateTime } from "./date-time";
import { CsrfField } from "./form-fields";
import { useHydrated } from "./host-hydrated";
import type { MetricsPanelData } from "./host-metrics-data.server";
import {
  type MetricsFailureState,
  metricsStateMessage,
  metricsStateOfError,
  serverDetailHelps,
} from "./host-metrics-states";

type Phase =
  | { kind: "idle" }
  | { kind: "updating" }
  | { kind: "refreshing" }
  | { kind: "done" }
  | { kind: "failed"; state: MetricsFailureState | null; message: string };

/** Tints the server-rendered gauges by the class svg.ts gives each level. */
const GAUGE_COLOURS =
  "[&_.od-gauge-ok_.od-gauge-value]:stroke-emerald-600 [&_.od-gauge-warn_.od-gauge-value]:stroke-amber-500 [&_.od-gauge-crit_.od-gauge-value]:stroke-red-600";

/**
 * The metrics panel: the last current snapshot as server-rendered gauges, sparkline and
 * text, and (for admin/operator) "Update metrics". Without JavaScript the button is a form
 * post to `/hosts/:id/metrics:update`, which redirects back with `?metrics=<state>`; with
 * JavaScript it calls `metrics.update` (the tRPC client is fetched while the browser is
 * idle, not with the page) and revalidates the page so the server renders the new
 * snapshot. A failure never hides the snapshot already shown.
 */
export function HostMetricsPanel({
  hostId,
  csrfToken,
  data,
}: {
  hostId: number;
  csrfToken: string | null | undefined;
  data: MetricsPanelData;
}) {
  const hydrated = useHydrated();
  const revalidator = useRevalidator();
  const [phase, setPhase] = useState<Phase>({ kind: "idle" });
  const sawLoading = useRef(false);
  const wording = { timeoutSeconds: data.timeoutSeconds, instance: data.instance };

  // "Updating…" lasts until the page's data has been loaded again.
  useEffect(() => {
    if (phase.kind !== "refreshing") return;
    if (revalidator.state === "loading") {
      sawLoading.current = true;
      return;
    }
    if (sawLoading.current) {
      setPhase({ kind: "done" });
      return;
    }
    const timer = setTimeout(() => setPhase({ kind: "done" }), 3_000);
    return () => clearTimeout(timer);
  }, [phase.kind, revalidator.state]);

  useEffect(() => (data.canUpdate ? preloadBrowserTrpc() : undefined), [data.canUpdate]);

  const busy = phase.kind === "updating" || phase.kind === "refreshing";

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    const form = event.currentTarget;
    setPhase({ kind: "updating" });
    let trpc: Awaited<ReturnType<typeof browserTrpc>>;
    try {
      trpc = await browserTrpc(csrfToken ?? null);
    } catch {
      // The client's chunk did not arrive (a dropped link): post the form as without JavaScript.
      form.submit();
      return;
    }
    try {
      await trpc.client.metrics.update.mutate({ hostId });
      sawLoading.current = false;
      setPhase({ kind: "refreshing" });
      revalidator.revalidate();
    } catch (error) {
      const { code, state, message: serverMessage } = trpc.describeError(error);
      const message = code === "UNAUTHORIZED" ? "Your session has ended. Sign in again, then retry." : serverMessage;
      setPhase({ kind: "failed", state: (state as MetricsFailureState | null) ?? metricsStateOfError(code ?? undefined, serverMessage), message });
    }
  }

  let notice: { ok: boolean; text: string; detail?: string } | null = null;
  if (phase.kind === "done") notice = { ok: true, text: metricsStateMessage("updated", wording) };
  else if (phase.kind === "failed") {
    notice = phase.state
      ? {
          ok: false,
          text: metricsStateMessage(phase.state, wording),
          detail: serverDetailHelps(phase.state) ? phase.message : undefined,
        }
      : { ok: false, text: phase.message };
  } else if (phase.kind === "idle" && data.flash) {
    notice = { ok: data.flash === "updated", text: metricsStateMessage(data.flash, wording) };
  }

  const current = data.current;
  return (
    <div className="space-y-3" data-testid="metrics-panel">
      {data.canUpdate ? (
        <form
          method="post"
          action={`/hosts/${hostId}/metrics:update`}
          onSubmit={(event) => void onSubmit(event)}
          className="flex items-center gap-3"
          data-testid="metrics-update-form"
          data-enhanced={hydrated ? "" : undefined}
        >
          <CsrfField token={csrfToken} />
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Updating…" : "Update metrics"}
          </button>
          {busy ? (
            <span role="status" className="text-sm text-slate-600 dark:text-slate-400">
              Updating…
            </span>
          ) : null}
        </form>
      ) : null}
      {notice ? (
        <div role={notice.ok ? "status" : "alert"} className={notice.ok ? "alert-ok" : "alert-error"} data-testid="metrics-notice">
          <p>{notice.text}</p>
          {notice.detail ? <p className="mt-1 text-xs opacity-80">{notice.detail}</p> : null}
        </div>
      ) : null}
      {current ? (
        <>
          <p className="text-sm" data-testid="metrics-updated">
            Last updated by <span className="font-medium">{current.updatedBy}</span> at <DateTime value={current.collectedAt} /> (
            {current.ago}).{" "}
            <span className="text-slate-500 dark:text-slate-400">
              Current until <DateTime value={current.expiresAt} />.
            </span>
          </p>
          {current.missing.length > 0 ? (
            <p className="rounded border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200">
              Partial data: Prometheus had no value for {current.missing.join(", ")}.
            </p>
          ) : null}
          <div className={`flex flex-wrap items-end gap-4 ${GAUGE_COLOURS}`}>
            {current.gauges.map((gauge) => (
              // biome-ignore lint/security/noDangerouslySetInnerHtml: our own SVG, escaped by server/domain/metrics/svg.ts
              <div key={gauge.key} data-testid={`gauge-${gauge.key}`} dangerouslySetInnerHTML={{ __html: gauge.svg }} />
            ))}
            <figure className="text-sky-700 dark:text-sky-400">
              {/* biome-ignore lint/security/noDangerouslySetInnerHtml: our own SVG, escaped by server/domain/metrics/svg.ts */}
              <div data-testid="cpu-sparkline" dangerouslySetInnerHTML={{ __html: current.sparkline }} />
              <figcaption className="text-xs text-slate-600 dark:text-slate-400">
                CPU % over the last {current.historyCount} {current.historyCount === 1 ? "update" : "updates"}
              </figcaption>
            </figure>
          </div>
          <dl className="grid grid-cols-2 gap-x-4 gap-y-1 text-sm sm:grid-cols-4">
            {current.text.map((item) => (
              <div key={item.label}>
                <dt className="text-slate-600 dark:text-slate-400">{item.label}</dt>
                <dd className="font-mono">{item.value}</dd>
              </div>
            ))}
          </dl>
        </>
      ) : (
        <div className="text-sm" data-testid="metrics-none">
          <p className="font-medium">No current metrics.</p>
          <p className="text-slate-600 dark:text-slate-400">
            {data.expiredAt ? (
              <>
                The last metrics expired at <DateTime value={data.expiredAt} /> and are no longer shown.
              </>
            ) : (
              "No metrics have been collected for this host yet."
            )}
            {data.canUpdate ? " Press Update metrics to query Prometheus." : ""}
          </p>
        </div>
      )}
    </div>
  );
}
