import type { ActionFunctionArgs, HeadersFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { AuditDiff } from "../components/audit-diff";
import { AuditFilterForm, auditFilterParams, withQuery } from "../components/audit-filters";
import { auditAction, auditLoader, type PageEvent } from "../components/audit-page.server";
import { DateTime } from "../components/date-time";
import { CsrfField, FormAlert } from "../components/form-fields";

export const meta: MetaFunction = () => [{ title: "Audit log · OpsDesk" }];

export const headers: HeadersFunction = ({ loaderHeaders }) => loaderHeaders;

export const loader = (args: LoaderFunctionArgs) => auditLoader(args);
export const action = (args: ActionFunctionArgs) => auditAction(args);

export default function AuditPage() {
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const verifying = navigation.state === "submitting" && navigation.formData?.get("intent") === "verify";
  const limit = page.limit ? String(page.limit) : undefined;
  const filterParams = auditFilterParams(page.filters);
  const filtered = filterParams.toString() !== "";
  const older = page.nextCursor ? withQuery("/audit", auditFilterParams(page.filters, { cursor: page.nextCursor, limit })) : null;
  const newest = withQuery("/audit", auditFilterParams(page.filters, { limit }));

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-bold">Audit log</h1>
        <div className="ml-auto flex flex-wrap gap-2">
          <a className="btn" href={withQuery("/audit/export", auditFilterParams(page.filters, { format: "csv" }))} download>
            Export CSV
          </a>
          <a className="btn" href={withQuery("/audit/export", auditFilterParams(page.filters, { format: "jsonl" }))} download>
            Export JSONL
          </a>
          <Form method="post">
            <CsrfField token={page.csrfToken} />
            <button type="submit" name="intent" value="verify" className="btn btn-primary" disabled={verifying}>
              {verifying ? "Verifying…" : "Verify chain"}
            </button>
          </Form>
        </div>
      </div>

      <FormAlert message={result?.error} />
      {result?.verify ? (
        result.verify.ok ? (
          <p role="status" className="alert-ok" data-testid="verify-result">
            Chain intact: {result.verify.checked.toLocaleString("en-US")} events checked, no break found.
          </p>
        ) : (
          <p role="alert" className="alert-error" data-testid="verify-result">
            Chain broken: {result.verify.checked.toLocaleString("en-US")} events checked; the first broken event is{" "}
            <a className="link font-semibold" href={result.verify.brokenLink ?? "#"}>
              #{result.verify.firstBrokenId}
            </a>
            . It, or the event before it, was altered, inserted or deleted outside the app.
          </p>
        )
      ) : null}

      <AuditFilterForm filters={page.filters} actions={page.actions} />
      <FormAlert message={page.error} />

      {page.events.length === 0 ? (
        <p className="card text-sm text-slate-600 dark:text-slate-400">
          {page.error ? "Fix the filters above." : filtered ? "No events match these filters." : "No events yet."}
        </p>
      ) : (
        <div className="card overflow-x-auto p-0">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            {page.events.map((event) => (
              <EventRows key={event.id} event={event} />
            ))}
          </table>
        </div>
      )}

      {page.paged || older ? (
        <p className="flex gap-4 text-sm">
          {page.paged ? (
            <Link className="link" to={newest}>
              Newest events
            </Link>
          ) : null}
          {older ? (
            <Link className="link" to={older} rel="next">
              Older events
            </Link>
          ) : null}
        </p>
      ) : null}
    </div>
  );
}

const OUTCOME_CLASS: Record<string, string> = {
  success: "text-emerald-700 dark:text-emerald-400",
  failure: "text-red-700 dark:text-red-400",
  denied: "text-amber-700 dark:text-amber-400",
};

/** One event: its summary row, and a row with its details (a <details>: opens without JavaScript). */
function EventRows({ event }: { event: PageEvent }) {
  const actor = event.actorEmail ?? (event.actorId === null ? "system" : `user #${event.actorId}`);
  const target = event.targetType ? `${event.targetType}${event.targetId ? ` ${event.targetId}` : ""}` : "—";
  return (
    <tbody id={`event-${event.id}`} className="border-t border-slate-200 dark:border-slate-700" data-testid="audit-event">
      <tr>
        <td>
          <DateTime value={event.at} />
        </td>
        <td className="break-all">{actor}</td>
        <td className="font-mono text-xs" data-testid="audit-action">
          {event.action}
        </td>
        <td className="break-all">{target}</td>
        <td className={OUTCOME_CLASS[event.outcome] ?? ""}>{event.outcome}</td>
      </tr>
      <tr>
        <td colSpan={5} className="pt-0">
          <details>
            <summary className="cursor-pointer text-xs text-slate-600 dark:text-slate-400">Details of event #{event.id}</summary>
            <div className="mt-2 grid gap-3 lg:grid-cols-[2fr_1fr]">
              <AuditDiff before={event.before} after={event.after} />
              <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-xs">
                <dt className="font-medium">Time</dt>
                <dd className="font-mono">{event.at}</dd>
                <dt className="font-medium">Outcome</dt>
                <dd>{event.outcome}</dd>
                <dt className="font-medium">Request id</dt>
                <dd className="break-all font-mono">{event.requestId ?? "—"}</dd>
                <dt className="font-medium">IP</dt>
                <dd className="font-mono">{event.ip ?? "—"}</dd>
                <dt className="font-medium">User agent</dt>
                <dd className="break-all">{event.userAgent ?? "—"}</dd>
                <dt className="font-medium">Hash</dt>
                <dd className="font-mono" title="First characters of the event's chain hash; exports carry it whole">
                  {event.hash}…
                </dd>
              </dl>
            </div>
          </details>
        </td>
      </tr>
    </tbody>
  );
}
