import {
  type ActionFunctionArgs,
  data,
  type LoaderFunctionArgs,
  type MetaFunction,
  redirect,
} from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useLocation, useNavigation } from "@remix-run/react";
import { TRPCError } from "@trpc/server";
import { DateTime } from "../components/date-time";
import { CsrfField, Field, FormAlert } from "../components/form-fields";
import { pendingEnrolmentFor } from "../components/mfa-enrolment.server";
import { callerFor, formError, pageError } from "../trpc/caller.server";
import { requireUser } from "../utils/guards.server";
import { noStoreHeaders } from "../utils/headers";

export const meta: MetaFunction = () => [{ title: "Account · OpsDesk" }];

export const headers = noStoreHeaders;

/** Messages after a POST/redirect/GET; only these fixed texts can appear from the URL. */
const NOTICES = {
  "password-changed": "Your password was changed. Your other sessions were signed out.",
  "mfa-disabled": "Two-factor sign-in is off.",
  "token-revoked": "The token was revoked. Scripts using it are refused from now on.",
} as const;
type Notice = keyof typeof NOTICES;
const isNotice = (value: string | null): value is Notice => value !== null && Object.hasOwn(NOTICES, value);

type TokenStatus = "active" | "revoked" | "expired";

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireUser(request, context);
  const identity = await context.identity();
  const url = new URL(request.url);
  const caller = await callerFor(request, context);
  const tokensCursor = url.searchParams.get("tokens") ?? undefined;
  const tokens = await caller.account.tokens.list({ cursor: tokensCursor, limit: 50 }).catch((e) => pageError(e, request));
  // A begun enrolment is shown again after a reload (the only direct service read here).
  const pending = await pendingEnrolmentFor(context, user);
  const now = Date.now();
  const notice = url.searchParams.get("notice");
  return {
    csrfToken: identity.csrfToken,
    email: user.email,
    mfaEnabled: user.mfaEnabled,
    pending,
    tokens: tokens.items.map((t) => ({
      ...t,
      status: (t.revokedAt ? "revoked" : Date.parse(t.expiresAt) <= now ? "expired" : "active") as TokenStatus,
    })),
    tokensNextCursor: tokens.nextCursor,
    tokensPaged: Boolean(tokensCursor),
    notice: isNotice(notice) ? NOTICES[notice] : null,
  };
}

type ActionResult = {
  intent: string;
  error?: string | null;
  fieldErrors?: Record<string, string[] | undefined> | null;
  recoveryCodes?: string[];
  createdToken?: { id: string; name: string; token: string; expiresAt: string };
};

const text = (form: FormData, name: string): string => {
  const value = form.get(name);
  return typeof value === "string" ? value : "";
};

const withNotice = (notice: Notice, hash: string) => `/account?notice=${notice}${hash}`;

export async function action({ request, context }: ActionFunctionArgs) {
  const form = await request.formData();
  const headers = new Headers();
  const caller = await callerFor(request, context, headers, { formCsrfToken: form.get("_csrf") });
  const intent = text(form, "intent");
  try {
    switch (intent) {
      case "password":
        await caller.account.changePassword({
          currentPassword: text(form, "currentPassword"),
          newPassword: text(form, "newPassword"),
        });
        return redirect(withNotice("password-changed", "#password"), { headers });
      case "mfa-begin":
        await caller.account.mfa.begin();
        return redirect("/account#mfa", { headers });
      case "mfa-confirm": {
        const { recoveryCodes } = await caller.account.mfa.confirm({ code: text(form, "code") });
        // Shown once, in this answer only: never stored where a loader could read it.
        return data<ActionResult>({ intent, recoveryCodes }, { headers });
      }
      case "mfa-disable":
        await caller.account.mfa.disable({ code: text(form, "code") });
        return redirect(withNotice("mfa-disabled", "#mfa"), { headers });
      case "token-create": {
        const days = text(form, "expiresInDays").trim();
        const name = text(form, "name");
        const created = await caller.account.tokens.create({
          name,
          expiresInDays: days === "" ? undefined : Number(days),
        });
        return data<ActionResult>(
          { intent, createdToken: { id: created.id, name: name.trim(), token: created.token, expiresAt: created.expiresAt } },
          { headers },
        );
      }
      case "token-revoke":
        await caller.account.tokens.revoke({ id: text(form, "id") });
        return redirect(withNotice("token-revoked", "#tokens"), { headers });
      default:
        return data<ActionResult>({ intent, error: "Unknown action. Reload the page and try again." }, { status: 400, headers });
    }
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    if (error.code === "UNAUTHORIZED") pageError(error, request);
    const failure = formError(error);
    return data<ActionResult>(
      { intent, error: failure.message, fieldErrors: failure.fieldErrors },
      { status: failure.status, headers },
    );
  }
}

const STATUS_CLASS: Record<TokenStatus, string> = {
  active: "text-emerald-700 dark:text-emerald-400",
  revoked: "text-slate-500 dark:text-slate-400",
  expired: "text-amber-700 dark:text-amber-400",
};

export default function AccountPage() {
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const submitting = (intent: string) => navigation.state === "submitting" && navigation.formData?.get("intent") === intent;
  const resultFor = (...intents: string[]) => (result && intents.includes(result.intent) ? result : undefined);
  const passwordResult = resultFor("password");
  const mfaResult = resultFor("mfa-begin", "mfa-confirm", "mfa-disable");
  const tokenResult = resultFor("token-create", "token-revoke");
  // After confirming, the answer may be rendered with this request's identity as it was
  // before the action (a document POST without JavaScript): the recovery codes say it is on.
  const mfaOn = page.mfaEnabled || Boolean(mfaResult?.recoveryCodes);
  const otherResult = result && !passwordResult && !mfaResult && !tokenResult ? result : undefined;
  // A new location (after a redirect or a submission) empties the password fields.
  const { key: locationKey } = useLocation();

  return (
    <div className="max-w-5xl space-y-6">
      <div>
        <h1 className="text-2xl font-bold">Your account</h1>
        <p className="text-sm text-slate-600 dark:text-slate-400">Signed in as {page.email}</p>
      </div>
      <FormAlert message={page.notice} ok />
      <FormAlert message={otherResult?.error} />

      <section id="password" aria-labelledby="password-heading" className="card">
        <h2 id="password-heading" className="mb-3 text-lg font-semibold">
          Change password
        </h2>
        <FormAlert message={passwordResult?.error} />
        <Form method="post" className="max-w-sm" key={locationKey}>
          <CsrfField token={page.csrfToken} />
          <input type="hidden" name="intent" value="password" />
          <Field label="Current password" name="currentPassword" errors={passwordResult?.fieldErrors?.currentPassword}>
            <input
              className="input"
              id="currentPassword"
              name="currentPassword"
              type="password"
              autoComplete="current-password"
              required
              maxLength={1024}
            />
          </Field>
          <Field
            label="New password"
            name="newPassword"
            errors={passwordResult?.fieldErrors?.newPassword}
            hint="At least 12 characters. A passphrase is easiest to remember."
          >
            <input
              className="input"
              id="newPassword"
              name="newPassword"
              type="password"
              autoComplete="new-password"
              required
              minLength={12}
              maxLength={1024}
            />
          </Field>
          <button type="submit" className="btn btn-primary" disabled={submitting("password")}>
            Change password
          </button>
        </Form>
      </section>

      <section id="mfa" aria-labelledby="mfa-heading" className="card">
        <h2 id="mfa-heading" className="mb-3 text-lg font-semibold">
          Two-factor sign-in
        </h2>
        <FormAlert message={mfaResult?.error} />
        {mfaResult?.recoveryCodes ? (
          <div className="alert-ok mb-3" role="status">
            <p className="mb-2 font-semibold">Two-factor sign-in is on.</p>
            <p className="mb-2">
              Save these recovery codes now, somewhere safe: each one signs you in once if you lose your device. They
              will not be shown again.
            </p>
            <ul className="grid grid-cols-2 gap-1 font-mono sm:grid-cols-5" data-testid="recovery-codes">
              {mfaResult.recoveryCodes.map((code) => (
                <li key={code}>{code}</li>
              ))}
            </ul>
          </div>
        ) : null}
        {mfaOn ? (
          <>
            <p className="mb-3 text-sm">
              <strong>On.</strong> Signing in asks for a code from your authenticator app (or a recovery code).
            </p>
            <Form method="post" className="max-w-sm">
              <CsrfField token={page.csrfToken} />
              <input type="hidden" name="intent" value="mfa-disable" />
              <Field
                label="Code to turn it off"
                name="code"
                errors={mfaResult?.fieldErrors?.code}
                hint="A current code from your app, or a recovery code."
              >
                <input className="input font-mono" id="code" name="code" autoComplete="one-time-code" required maxLength={32} />
              </Field>
              <button type="submit" className="btn btn-danger" disabled={submitting("mfa-disable")}>
                Turn off two-factor sign-in
              </button>
            </Form>
          </>
        ) : page.pending ? (
          <div className="space-y-3">
            <p className="text-sm">
              Scan this QR code with your authenticator app, or enter the secret by hand. Then type the 6-digit code
              the app shows.
            </p>
            <div className="flex flex-wrap items-start gap-4">
              <div
                className="h-48 w-48 shrink-0 bg-white [&>svg]:h-full [&>svg]:w-full"
                // biome-ignore lint/security/noDangerouslySetInnerHtml: SVG built by our own qr-svg.ts from the module matrix: no script, no external references
                dangerouslySetInnerHTML={{ __html: page.pending.qrSvg }}
              />
              <div className="min-w-0 text-sm">
                <p className="label">Secret for manual entry</p>
                <code
                  className="block break-all rounded bg-slate-100 p-2 font-mono dark:bg-slate-900"
                  data-testid="totp-secret"
                >
                  {page.pending.secret}
                </code>
                <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">Time-based, 6 digits, 30 seconds, SHA-1.</p>
              </div>
            </div>
            <Form method="post" className="max-w-sm">
              <CsrfField token={page.csrfToken} />
              <input type="hidden" name="intent" value="mfa-confirm" />
              <Field label="Code from the app" name="code" errors={mfaResult?.fieldErrors?.code}>
                <input
                  className="input font-mono"
                  id="code"
                  name="code"
                  autoComplete="one-time-code"
                  inputMode="numeric"
                  required
                  maxLength={32}
                />
              </Field>
              <button type="submit" className="btn btn-primary" disabled={submitting("mfa-confirm")}>
                Confirm and turn on
              </button>
            </Form>
          </div>
        ) : (
          <Form method="post">
            <p className="mb-3 text-sm">
              <strong>Off.</strong> Add a code from an authenticator app to every sign-in, so a stolen password alone is
              not enough.
            </p>
            <CsrfField token={page.csrfToken} />
            <input type="hidden" name="intent" value="mfa-begin" />
            <button type="submit" className="btn btn-primary" disabled={submitting("mfa-begin")}>
              Set up
            </button>
          </Form>
        )}
      </section>

      <section id="tokens" aria-labelledby="tokens-heading" className="card">
        <h2 id="tokens-heading" className="mb-3 text-lg font-semibold">
          API tokens
        </h2>
        <p className="mb-3 text-sm">
          Scripts send a token as <code className="font-mono">Authorization: Bearer …</code>. A token has your rights as
          they are at the time of use.
        </p>
        <FormAlert message={tokenResult?.error} />
        {tokenResult?.createdToken ? (
          <div className="alert-ok mb-3" role="status">
            <p className="mb-2">
              Token <strong>{tokenResult.createdToken.name}</strong> created. Copy it now: it will not be shown again.
            </p>
            <code className="block break-all rounded bg-white p-2 font-mono text-slate-900 dark:bg-slate-900 dark:text-slate-100" data-testid="new-token">
              {tokenResult.createdToken.token}
            </code>
          </div>
        ) : null}
        <Form method="post" className="mb-4 flex flex-wrap items-end gap-3" key={tokenResult?.createdToken?.id ?? "new-token"}>
          <CsrfField token={page.csrfToken} />
          <input type="hidden" name="intent" value="token-create" />
          <div className="min-w-48 flex-1">
            <Field label="Token name" name="tokenName" errors={tokenResult?.fieldErrors?.name}>
              <input className="input" id="tokenName" name="name" required maxLength={100} placeholder="backup script" />
            </Field>
          </div>
          <div className="w-36">
            <Field label="Expires in (days)" name="expiresInDays" errors={tokenResult?.fieldErrors?.expiresInDays}>
              <input
                className="input"
                id="expiresInDays"
                name="expiresInDays"
                type="number"
                min={1}
                max={365}
                step={1}
                defaultValue={90}
                required
              />
            </Field>
          </div>
          <div className="mb-3">
            <button type="submit" className="btn btn-primary" disabled={submitting("token-create")}>
              Create token
            </button>
          </div>
        </Form>
        {page.tokens.length === 0 ? (
          <p className="text-sm text-slate-600 dark:text-slate-400">You have no API tokens{page.tokensPaged ? " on this page" : ""}.</p>
        ) : (
          <div className="overflow-x-auto">
            <table className="table">
              <caption className="sr-only">Your API tokens</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Token</th>
                  <th scope="col">Created</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {page.tokens.map((t) => (
                  <tr key={t.id}>
                    <td>{t.name}</td>
                    <td>
                      <code className="whitespace-nowrap font-mono">odt_{t.prefix}_…</code>
                    </td>
                    <td>
                      <DateTime value={t.createdAt} />
                    </td>
                    <td>
                      <DateTime value={t.expiresAt} />
                    </td>
                    <td>
                      <DateTime value={t.lastUsedAt} empty="never" />
                    </td>
                    <td className={STATUS_CLASS[t.status]}>{t.status}</td>
                    <td>
                      {t.status === "active" ? (
                        <Form method="post">
                          <CsrfField token={page.csrfToken} />
                          <input type="hidden" name="intent" value="token-revoke" />
                          <input type="hidden" name="id" value={t.id} />
                          <button type="submit" className="btn btn-danger" aria-label={`Revoke ${t.name}`}>
                            Revoke
                          </button>
                        </Form>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {page.tokensPaged || page.tokensNextCursor ? (
          <p className="mt-3 flex gap-4 text-sm">
            {page.tokensPaged ? (
              <Link className="link" to="/account#tokens">
                Newest tokens
              </Link>
            ) : null}
            {page.tokensNextCursor ? (
              <Link className="link" to={`/account?tokens=${encodeURIComponent(page.tokensNextCursor)}#tokens`}>
                Older tokens
              </Link>
            ) : null}
          </p>
        ) : null}
      </section>
    </div>
  );
}
