import { type ActionFunctionArgs, data, type LoaderFunctionArgs, type MetaFunction, redirect } from "@remix-run/node";
import { Link, useActionData, useLoaderData, useLocation, useNavigation } from "@remix-run/react";
import { TRPCError } from "@trpc/server";
import type { HostView } from "../../server/services/hosts/host-view";
import { FormAlert } from "../components/form-fields";
import { HostConflictPanel } from "../components/host-conflict";
import { HostForm, type HostFormValues, hostFormValuesFrom, hostToFormValues } from "../components/host-form";
import { callerFor, formError, pageError } from "../trpc/caller.server";
import { hostIdOr404, loadHostForWrite } from "../utils/host-params.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `Edit ${data.host.hostname} · OpsDesk` : "Edit host · OpsDesk" },
];

export const loader = (args: LoaderFunctionArgs) => loadHostForWrite(args);

type ActionResult = {
  error: string;
  fieldErrors: Record<string, string[] | undefined> | null;
  values: HostFormValues;
  /** The version the form must carry next: the user's own after a field error, the stored one after a conflict. */
  version: number;
  conflict: { current: HostView } | null;
};

/** The stored host a stale-version CONFLICT carries (`DomainError.details.current`), if any. */
function conflictingHost(error: TRPCError): HostView | null {
  if (error.code !== "CONFLICT") return null;
  const details = (error.cause as { details?: { current?: unknown } } | undefined)?.details;
  const current = details?.current as HostView | undefined;
  return current && typeof current === "object" && typeof current.version === "number" ? current : null;
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const id = hostIdOr404(params.hostId, request);
  const form = await request.formData();
  const headers = new Headers();
  const caller = await callerFor(request, context, headers, { formCsrfToken: form.get("_csrf") });
  const values = hostFormValuesFrom(form);
  const version = Number(form.get("version"));
  try {
    // The whole form is the patch: every field is set to what the user sees.
    await caller.hosts.update({ id, version, ...values });
    return redirect(`/hosts/${id}`, { headers });
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    if (error.code === "UNAUTHORIZED") pageError(error, request);
    const current = conflictingHost(error);
    if (current) {
      return data<ActionResult>(
        { error: error.message, fieldErrors: null, values, version: current.version, conflict: { current } },
        { status: 409, headers },
      );
    }
    const failure = formError(error);
    return data<ActionResult>(
      { error: failure.message, fieldErrors: failure.fieldErrors, values, version, conflict: null },
      { status: failure.status, headers },
    );
  }
}

export default function EditHostPage() {
  const { host, csrfToken } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state === "submitting";
  const { key } = useLocation();
  const version = result && Number.isInteger(result.version) && result.version > 0 ? result.version : host.version;
  return (
    <div className="max-w-3xl">
      <p className="mb-2 text-sm">
        <Link to={`/hosts/${host.id}`} className="link">
          ← {host.hostname}
        </Link>
      </p>
      <h1 className="mb-4 break-all text-2xl font-bold">Edit {host.hostname}</h1>
      {result?.conflict ? (
        <HostConflictPanel
          message={result.error}
          current={result.conflict.current}
          yours={result.values}
          reloadTo={`/hosts/${host.id}/edit`}
        />
      ) : (
        <FormAlert message={result?.error} />
      )}
      <HostForm
        key={key}
        values={result?.values ?? hostToFormValues(host)}
        fieldErrors={result?.fieldErrors}
        csrfToken={csrfToken}
        version={version}
        submitLabel="Save"
        busy={busy}
        cancelTo={`/hosts/${host.id}`}
      />
    </div>
  );
}
