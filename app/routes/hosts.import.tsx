import {
  type ActionFunctionArgs,
  data,
  type HeadersFunction,
  type LoaderFunctionArgs,
  type MetaFunction,
  redirect,
} from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { FormAlert } from "../components/form-fields";
import { HostImportForm } from "../components/host-import-form";
import { HostImportHelp } from "../components/host-import-help";
import { HostImportProgress } from "../components/host-import-progress";
import { HostImportResult } from "../components/host-import-result";
import { redirectToLogin } from "../trpc/caller.server";
import { requireCapability } from "../utils/guards.server";
import {
  applyFromForm,
  dryRunFromForm,
  type ImportFailure,
  importMaxBytes,
  readImportForm,
} from "../utils/host-import.server";
import { loadImportRunView } from "../utils/host-import-status.server";

export const meta: MetaFunction = () => [{ title: "Import hosts · OpsDesk" }];

export const headers: HeadersFunction = () => ({ "Cache-Control": "no-store" });

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireCapability(request, context, "hosts.write");
  const identity = await context.identity();
  const url = new URL(request.url);
  const runId = url.searchParams.get("run");
  const maxBytes = await importMaxBytes(context);
  // `applied=1`: the apply form's redirect, so the page can say how that apply ended.
  const view = runId
    ? await loadImportRunView(request, context, user.id, runId, { justStarted: url.searchParams.get("applied") === "1" })
    : null;
  const body = { csrfToken: identity.csrfToken, maxBytes, view };
  return view?.kind === "missing" ? data(body, { status: 404 }) : body;
}

type ActionResult = { intent: "dry-run" | "apply"; error: string };

function refused(intent: ActionResult["intent"], outcome: ImportFailure, request: Request, headers?: Headers) {
  if (outcome.code === "UNAUTHORIZED") throw redirectToLogin(request);
  return data<ActionResult>({ intent, error: `Error ${outcome.status}: ${outcome.message}` }, { status: outcome.status, headers });
}

/**
 * The form post without JavaScript (with JavaScript the dry run goes through
 * /hosts/import/upload for its progress bar; the apply step comes here either way).
 * POST/redirect/GET: every success lands on /hosts/import?run=<id>. An apply is started
 * and redirected at once, so its page shows the progress while it runs.
 */
export async function action({ request, context }: ActionFunctionArgs) {
  await requireCapability(request, context, "hosts.write");
  const headers = new Headers();
  const read = await readImportForm(request, await importMaxBytes(context));
  if (!read.ok) return refused("dry-run", read, request);
  const { form } = read;
  if (form.get("intent") === "apply") {
    const outcome = await applyFromForm(request, context, form, headers);
    if (!outcome.ok) return refused("apply", outcome, request, headers);
    return redirect(`/hosts/import?run=${encodeURIComponent(outcome.runId)}&applied=1`, { headers });
  }
  const outcome = await dryRunFromForm(request, context, form, headers);
  if (!outcome.ok) return refused("dry-run", outcome, request, headers);
  return redirect(`/hosts/import?run=${encodeURIComponent(outcome.runId)}`, { headers });
}

export default function HostImportPage() {
  const { csrfToken, maxBytes, view } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const run = view?.kind === "ended" ? view.run : null;
  const applyError = (result?.intent === "apply" ? result.error : null) ?? (view?.kind === "ended" ? view.notice : null);
  return (
    <div>
      <p className="mb-1 text-sm">
        <Link to="/hosts" className="link">
          ← Hosts
        </Link>
      </p>
      <h1 className="mb-2 text-2xl font-bold">Import hosts from CSV</h1>
      <p className="mb-4 max-w-3xl text-sm text-slate-700 dark:text-slate-300">
        A dry run checks every row and shows what would be created or updated, and every error, without writing
        anything. When the dry run has no errors you can apply it: all rows are written in one go, or none.
      </p>
      {view?.kind === "missing" ? (
        <FormAlert message="That import run has expired (runs are kept for 24 hours) or was started by someone else. Upload the file again." />
      ) : null}
      {view?.kind === "running" ? <HostImportProgress key={view.progress.runId} progress={view.progress} /> : null}
      {view?.kind === "ended" && !run ? <FormAlert message={view.notice} /> : null}
      {run ? (
        <HostImportResult
          run={run}
          csrfToken={csrfToken}
          applyError={applyError}
          justApplied={view?.kind === "ended" && view.justApplied}
        />
      ) : null}
      <h2 className="mb-2 text-lg font-semibold">{run ? "Check another file" : "Check a file"}</h2>
      <HostImportForm
        key={run?.id ?? "new"}
        csrfToken={csrfToken}
        maxBytes={maxBytes}
        error={result?.intent === "dry-run" ? result.error : null}
        submitLabel="Dry run"
      />
      <div className="mt-4">
        <HostImportHelp />
      </div>
    </div>
  );
}
