import type { ActionFunctionArgs, HeadersFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { auditTableHtml } from "../components/audit-event-rows";
import { AuditFilterForm, auditFilterParams, withQuery } from "../components/audit-filters";
import { auditAction, auditLoader } from "../components/audit-page.server";
import { CsrfField, FormAlert } from "../components/form-fields";
import { HtmlMarkup } from "../components/html-markup";

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
          {/* The rows as one HTML string: hydration adopts them as they are (ADR 028). */}
          <HtmlMarkup as="table" className="table" markup={auditTableHtml(page.events)} />
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
