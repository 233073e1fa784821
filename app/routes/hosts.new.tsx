import { type ActionFunctionArgs, data, type LoaderFunctionArgs, type MetaFunction, redirect } from "@remix-run/node";
import { Link, useActionData, useLoaderData, useLocation, useNavigation } from "@remix-run/react";
import { TRPCError } from "@trpc/server";
import { FormAlert } from "../components/form-fields";
import { EMPTY_HOST_FORM, HostForm, type HostFormValues, hostFormValuesFrom } from "../components/host-form";
import { callerFor, formError, pageError } from "../trpc/caller.server";
import { requireCapability } from "../utils/guards.server";

export const meta: MetaFunction = () => [{ title: "Add host · OpsDesk" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireCapability(request, context, "hosts.write");
  const identity = await context.identity();
  return { csrfToken: identity.csrfToken };
}

type ActionResult = {
  error: string;
  fieldErrors: Record<string, string[] | undefined> | null;
  values: HostFormValues;
};

export async function action({ request, context }: ActionFunctionArgs) {
  const form = await request.formData();
  const headers = new Headers();
  const caller = await callerFor(request, context, headers, { formCsrfToken: form.get("_csrf") });
  const values = hostFormValuesFrom(form);
  try {
    const host = await caller.hosts.create(values);
    return redirect(`/hosts/${host.id}`, { headers });
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    if (error.code === "UNAUTHORIZED") pageError(error, request);
    const failure = formError(error);
    return data<ActionResult>(
      { error: failure.message, fieldErrors: failure.fieldErrors, values },
      { status: failure.status, headers },
    );
  }
}

export default function NewHostPage() {
  const { csrfToken } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state === "submitting";
  const { key } = useLocation();
  return (
    <div className="max-w-3xl">
      <p className="mb-2 text-sm">
        <Link to="/hosts" className="link">
          ← Hosts
        </Link>
      </p>
      <h1 className="mb-4 text-2xl font-bold">Add a host</h1>
      <FormAlert message={result?.error} />
      <HostForm
        key={key}
        values={result?.values ?? EMPTY_HOST_FORM}
        fieldErrors={result?.fieldErrors}
        csrfToken={csrfToken}
        submitLabel="Create host"
        busy={busy}
        cancelTo="/hosts"
      />
    </div>
  );
}
