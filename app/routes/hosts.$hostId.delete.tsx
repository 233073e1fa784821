import { type ActionFunctionArgs, data, type LoaderFunctionArgs, type MetaFunction, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { TRPCError } from "@trpc/server";
import { CsrfField, FormAlert } from "../components/form-fields";
import { callerFor, formError, pageError } from "../trpc/caller.server";
import { hostIdOr404, loadHostForWrite } from "../utils/host-params.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `Delete ${data.host.hostname} · OpsDesk` : "Delete host · OpsDesk" },
];

export async function loader(args: LoaderFunctionArgs) {
  const { host, csrfToken } = await loadHostForWrite(args);
  return { host: { id: host.id, hostname: host.hostname, version: host.version }, csrfToken };
}

/** After a conflict, `version` is the stored one (a 409 does not reload the page's data). */
type ActionResult = { error: string; conflict: boolean; version: number | null };

function storedVersion(error: TRPCError): number | null {
  const version = (error.cause as { details?: { current?: { version?: unknown } } } | undefined)?.details?.current?.version;
  return typeof version === "number" ? version : null;
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const id = hostIdOr404(params.hostId, request);
  const form = await request.formData();
  const headers = new Headers();
  const caller = await callerFor(request, context, headers, { formCsrfToken: form.get("_csrf") });
  try {
    const deleted = await caller.hosts.delete({ id, version: Number(form.get("version")) });
    return redirect(`/hosts?deleted=${encodeURIComponent(deleted.hostname)}`, { headers });
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    if (error.code === "UNAUTHORIZED") pageError(error, request);
    // Someone else deleted it first: nothing left to confirm.
    if (error.code === "NOT_FOUND") return redirect("/hosts", { headers });
    const failure = formError(error);
    return data<ActionResult>(
      { error: failure.message, conflict: error.code === "CONFLICT", version: storedVersion(error) },
      { status: failure.status, headers },
    );
  }
}

export default function DeleteHostPage() {
  const { host, csrfToken } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state === "submitting";
  return (
    <div className="max-w-xl">
      <p className="mb-2 text-sm">
        <Link to={`/hosts/${host.id}`} className="link">
          ← {host.hostname}
        </Link>
      </p>
      <h1 className="mb-4 text-2xl font-bold">Delete host</h1>
      {result?.conflict ? (
        <div role="alert" className="alert-error mb-3">
          <p>{result.error}</p>
          <p className="mt-1">
            <Link to={`/hosts/${host.id}`} className="link">
              Review the host as it is now
            </Link>{" "}
            before deleting it.
          </p>
        </div>
      ) : (
        <FormAlert message={result?.error} />
      )}
      <Form method="post" className="card">
        <CsrfField token={csrfToken} />
        <input type="hidden" name="version" value={result?.version ?? host.version} />
        <p className="mb-4">
          Delete <strong className="break-all">{host.hostname}</strong>? This cannot be undone.
        </p>
        <div className="flex items-center gap-3">
          <button type="submit" className="btn btn-danger" disabled={busy}>
            {busy ? "Deleting…" : "Delete"}
          </button>
          <Link to={`/hosts/${host.id}`} className="link">
            Cancel
          </Link>
        </div>
      </Form>
    </div>
  );
}
