import { type ActionFunctionArgs, data, type LoaderFunctionArgs, type MetaFunction, redirect } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { TRPCError } from "@trpc/server";
import {
  appendCookies,
  clearedSessionCookies,
  deviceCookie,
  mfaPendingCookie,
  readCookie,
  sameOrigin,
  sessionCookies,
} from "../utils/auth.server";
import { Field, FormAlert } from "../components/form-fields";
import { callerFor, formError } from "../trpc/caller.server";
import { safeRedirectPath } from "../utils/safe-redirect";

export const meta: MetaFunction = () => [{ title: "Sign in · OpsDesk" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const url = new URL(request.url);
  const redirectTo = safeRedirectPath(url.searchParams.get("redirectTo"));
  const identity = await context.identity();
  if (identity.user) throw redirect(redirectTo);
  return { redirectTo, step: readCookie(request, "mfa") ? ("mfa" as const) : ("password" as const) };
}

export async function action({ request, context }: ActionFunctionArgs) {
  // Signing in sets cookies: only our own login form may do that (login CSRF).
  if (!sameOrigin(request)) throw new Response("Cross-site sign-in refused.", { status: 403 });
  const form = await request.formData();
  const redirectTo = safeRedirectPath(form.get("redirectTo"));
  const headers = new Headers();
  const caller = await callerFor(request, context, headers);
  const intent = form.get("intent");
  try {
    if (intent === "cancel") {
      appendCookies(headers, clearedSessionCookies(request));
      return redirect(`/login?redirectTo=${encodeURIComponent(redirectTo)}`, { headers });
    }
    if (intent === "mfa") {
      const mfaToken = readCookie(request, "mfa") ?? "";
      const tokens = await caller.auth.verifyMfa({ mfaToken, code: String(form.get("code") ?? "") });
      appendCookies(headers, [...sessionCookies(tokens, request), deviceCookie(tokens.deviceToken, request)]);
      return redirect(redirectTo, { headers });
    }
    const result = await caller.auth.login({
      email: String(form.get("email") ?? ""),
      password: String(form.get("password") ?? ""),
      deviceToken: readCookie(request, "device") ?? undefined,
    });
    if (result.status === "mfa_required") {
      headers.append("Set-Cookie", mfaPendingCookie(result.mfaToken, request));
      return redirect(`/login?redirectTo=${encodeURIComponent(redirectTo)}`, { headers });
    }
    appendCookies(headers, [...sessionCookies(result, request), deviceCookie(result.deviceToken, request)]);
    return redirect(redirectTo, { headers });
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    const failure = formError(error);
    if (intent === "mfa" && error.message.startsWith("The sign-in step expired")) {
      appendCookies(headers, clearedSessionCookies(request));
    }
    return data({ error: failure.message, fieldErrors: failure.fieldErrors }, { status: failure.status, headers });
  }
}

export default function LoginPage() {
  const { redirectTo, step } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state !== "idle";
  return (
    <div className="mx-auto max-w-sm">
      <h1 className="mb-4 text-2xl font-bold">Sign in</h1>
      <FormAlert message={result?.error} />
      {step === "password" ? (
        <Form method="post" className="card" replace>
          <input type="hidden" name="redirectTo" value={redirectTo} />
          <input type="hidden" name="intent" value="password" />
          <Field label="Email" name="email" errors={result?.fieldErrors?.email}>
            <input className="input" id="email" name="email" type="email" autoComplete="username" required />
          </Field>
          <Field label="Password" name="password" errors={result?.fieldErrors?.password}>
            <input
              className="input"
              id="password"
              name="password"
              type="password"
              autoComplete="current-password"
              required
              maxLength={1024}
            />
          </Field>
          <button type="submit" className="btn btn-primary w-full justify-center" disabled={busy}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
        </Form>
      ) : (
        <Form method="post" className="card" replace>
          <input type="hidden" name="redirectTo" value={redirectTo} />
          <p className="mb-3 text-sm">
            Enter the 6-digit code from your authenticator app, or one of your recovery codes.
          </p>
          <Field label="Code" name="code" errors={result?.fieldErrors?.code}>
            <input
              className="input font-mono"
              id="code"
              name="code"
              autoComplete="one-time-code"
              inputMode="text"
              required
              maxLength={32}
              // biome-ignore lint/a11y/noAutofocus: the only field of this step
              autoFocus
            />
          </Field>
          <div className="flex gap-2">
            <button type="submit" name="intent" value="mfa" className="btn btn-primary flex-1 justify-center" disabled={busy}>
              Verify
            </button>
            <button type="submit" name="intent" value="cancel" className="btn" formNoValidate>
              Start over
            </button>
          </div>
        </Form>
      )}
    </div>
  );
}
