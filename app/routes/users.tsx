import {
  type ActionFunctionArgs,
  data,
  type LoaderFunctionArgs,
  type MetaFunction,
  redirect,
} from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { TRPCError } from "@trpc/server";
import { isRole, ROLES } from "../../server/auth/roles";
import { DateTime } from "../components/date-time";
import { CsrfField, Field, FormAlert } from "../components/form-fields";
import { callerFor, formError, pageError } from "../trpc/caller.server";
import { requireCapability } from "../utils/guards.server";
import { noStoreHeaders } from "../utils/headers";

export const meta: MetaFunction = () => [{ title: "Users · OpsDesk" }];

export const headers = noStoreHeaders;

/** Messages after a POST/redirect/GET; only these fixed texts can appear from the URL. */
const NOTICES = {
  created: "User created. They can sign in with the password you chose.",
  "role-changed": "Role changed. The user's sessions were ended; API tokens follow the new role.",
  disabled: "User disabled. Their sessions and API tokens stop working now.",
  enabled: "User enabled. They can sign in again.",
  "mfa-reset": "Two-factor sign-in was reset. The user signs in with the password alone until they enrol again.",
} as const;
type Notice = keyof typeof NOTICES;
const isNotice = (value: string | null): value is Notice => value !== null && Object.hasOwn(NOTICES, value);

const PAGE_SIZE = 50;

export async function loader({ request, context }: LoaderFunctionArgs) {
  const admin = await requireCapability(request, context, "admin.manage");
  const identity = await context.identity();
  const url = new URL(request.url);
  const cursor = url.searchParams.get("cursor") || undefined;
  const caller = await callerFor(request, context);
  const users = await caller.users.list({ cursor, limit: PAGE_SIZE }).catch((e) => pageError(e, request));
  const notice = url.searchParams.get("notice");
  return {
    csrfToken: identity.csrfToken,
    selfId: admin.id,
    users: users.items,
    nextCursor: users.nextCursor,
    paged: Boolean(cursor),
    notice: isNotice(notice) ? NOTICES[notice] : null,
  };
}

type ActionResult = {
  intent: string;
  userId?: number;
  error?: string | null;
  fieldErrors?: Record<string, string[] | undefined> | null;
  created?: { email: string; role: string; temporaryPassword: string };
};

const text = (form: FormData, name: string): string => {
  const value = form.get(name);
  return typeof value === "string" ? value : "";
};

/** Back to the same page of the list, with a notice. */
function backWith(request: Request, notice: Notice): string {
  const cursor = new URL(request.url).searchParams.get("cursor");
  const params = new URLSearchParams(cursor ? { cursor, notice } : { notice });
  return `/users?${params}`;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const form = await request.formData();
  const headers = new Headers();
  const caller = await callerFor(request, context, headers, { formCsrfToken: form.get("_csrf") });
  const intent = text(form, "intent");
  const userId = Number(text(form, "id"));
  try {
    switch (intent) {
      case "create": {
        const role = text(form, "role");
        if (!isRole(role)) {
          return data<ActionResult>(
            { intent, error: "Check the highlighted fields.", fieldErrors: { role: ["Choose a role."] } },
            { status: 400, headers },
          );
        }
        const password = text(form, "password");
        const result = await caller.users.create({ email: text(form, "email"), role, password: password || undefined });
        if (!result.temporaryPassword) return redirect(backWith(request, "created"), { headers });
        // Shown once, in this answer only.
        return data<ActionResult>(
          {
            intent,
            created: { email: result.user.email, role: result.user.role, temporaryPassword: result.temporaryPassword },
          },
          { headers },
        );
      }
      case "role": {
        const role = text(form, "role");
        if (!isRole(role)) return data<ActionResult>({ intent, userId, error: "Choose a role." }, { status: 400, headers });
        await caller.users.update({ id: userId, role });
        return redirect(backWith(request, "role-changed"), { headers });
      }
      case "disable":
      case "enable":
        await caller.users.update({ id: userId, disabled: intent === "disable" });
        return redirect(backWith(request, intent === "disable" ? "disabled" : "enabled"), { headers });
      case "reset-mfa":
        await caller.users.resetMfa({ id: userId });
        return redirect(backWith(request, "mfa-reset"), { headers });
      default:
        return data<ActionResult>({ intent, error: "Unknown action. Reload the page and try again." }, { status: 400, headers });
    }
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    if (error.code === "UNAUTHORIZED") pageError(error, request);
    const failure = formError(error);
    // Row forms have no fields to highlight: say what was wrong in the alert itself.
    const rowDetails =
      intent !== "create" && failure.fieldErrors ? Object.values(failure.fieldErrors).flat().filter(Boolean).join(" ") : "";
    return data<ActionResult>(
      {
        intent,
        userId: Number.isFinite(userId) ? userId : undefined,
        error: rowDetails || failure.message,
        fieldErrors: intent === "create" ? failure.fieldErrors : null,
      },
      { status: failure.status, headers },
    );
  }
}

export default function UsersPage() {
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const busy = navigation.state === "submitting";
  const createResult = result?.intent === "create" ? result : undefined;
  const rowResult = result && result.intent !== "create" ? result : undefined;
  const failedUser = rowResult?.userId ? page.users.find((u) => u.id === rowResult.userId) : undefined;

  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-bold">Users</h1>
      <FormAlert message={page.notice} ok />
      <FormAlert message={rowResult?.error ? (failedUser ? `${failedUser.email}: ${rowResult.error}` : rowResult.error) : null} />

      <section aria-labelledby="list-heading">
        <h2 id="list-heading" className="sr-only">
          All users
        </h2>
        <div className="card overflow-x-auto p-0">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">MFA</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {page.users.map((u) => (
                <tr key={u.id}>
                  <td className="break-all">
                    {u.email}
                    {u.id === page.selfId ? <span className="ml-1 text-xs text-slate-500 dark:text-slate-400">(you)</span> : null}
                  </td>
                  <td>
                    <Form method="post" className="flex items-center gap-1">
                      <CsrfField token={page.csrfToken} />
                      <input type="hidden" name="intent" value="role" />
                      <input type="hidden" name="id" value={u.id} />
                      <label htmlFor={`role-${u.id}`} className="sr-only">
                        Role of {u.email}
                      </label>
                      <select id={`role-${u.id}`} name="role" defaultValue={u.role} className="input w-auto py-1" key={u.role}>
                        {ROLES.map((role) => (
                          <option key={role} value={role}>
                            {role}
                          </option>
                        ))}
                      </select>
                      <button type="submit" className="btn" disabled={busy} aria-label={`Save role of ${u.email}`}>
                        Save
                      </button>
                    </Form>
                  </td>
                  <td className={u.disabled ? "text-red-700 dark:text-red-400" : ""}>{u.disabled ? "disabled" : "active"}</td>
                  <td>{u.mfaEnabled ? "on" : "off"}</td>
                  <td>
                    <DateTime value={u.createdAt} />
                  </td>
                  <td>
                    <div className="flex flex-wrap gap-1">
                      <Form method="post">
                        <CsrfField token={page.csrfToken} />
                        <input type="hidden" name="id" value={u.id} />
                        {u.disabled ? (
                          <button type="submit" name="intent" value="enable" className="btn" disabled={busy} aria-label={`Enable ${u.email}`}>
                            Enable
                          </button>
                        ) : (
                          <button
                            type="submit"
                            name="intent"
                            value="disable"
                            className="btn btn-danger"
                            disabled={busy}
                            aria-label={`Disable ${u.email}`}
                          >
                            Disable
                          </button>
                        )}
                      </Form>
                      {u.mfaEnabled ? (
                        <Form method="post">
                          <CsrfField token={page.csrfToken} />
                          <input type="hidden" name="id" value={u.id} />
                          <button
                            type="submit"
                            name="intent"
                            value="reset-mfa"
                            className="btn"
                            disabled={busy}
                            aria-label={`Reset MFA of ${u.email}`}
                          >
                            Reset MFA
                          </button>
                        </Form>
                      ) : null}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {page.paged || page.nextCursor ? (
          <p className="mt-3 flex gap-4 text-sm">
            {page.paged ? (
              <Link className="link" to="/users">
                First page
              </Link>
            ) : null}
            {page.nextCursor ? (
              <Link className="link" to={`/users?cursor=${page.nextCursor}`}>
                Next page
              </Link>
            ) : null}
          </p>
        ) : null}
      </section>

      <section aria-labelledby="create-heading" className="card max-w-md">
        <h2 id="create-heading" className="mb-3 text-lg font-semibold">
          Create a user
        </h2>
        <FormAlert message={createResult?.error} />
        {createResult?.created ? (
          <div className="alert-ok mb-3" role="status">
            <p className="mb-2">
              Created <strong>{createResult.created.email}</strong> ({createResult.created.role}). Give them this temporary
              password now; it will not be shown again:
            </p>
            <code
              className="block break-all rounded bg-white p-2 font-mono text-slate-900 dark:bg-slate-900 dark:text-slate-100"
              data-testid="temporary-password"
            >
              {createResult.created.temporaryPassword}
            </code>
          </div>
        ) : null}
        <Form method="post" key={createResult?.created?.email ?? "create"}>
          <CsrfField token={page.csrfToken} />
          <input type="hidden" name="intent" value="create" />
          <Field label="Email" name="email" errors={createResult?.fieldErrors?.email}>
            <input className="input" id="email" name="email" type="email" autoComplete="off" required maxLength={320} />
          </Field>
          <Field label="Role" name="role" errors={createResult?.fieldErrors?.role}>
            <select className="input" id="role" name="role" defaultValue="viewer">
              {ROLES.map((role) => (
                <option key={role} value={role}>
                  {role}
                </option>
              ))}
            </select>
          </Field>
          <Field
            label="Password (optional)"
            name="password"
            errors={createResult?.fieldErrors?.password}
            hint="Leave empty to generate a temporary password, shown once after creating."
          >
            <input
              className="input"
              id="password"
              name="password"
              type="password"
              autoComplete="new-password"
              minLength={12}
              maxLength={1024}
            />
          </Field>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            Create user
          </button>
        </Form>
      </section>
    </div>
  );
}
