import {
  type ActionFunctionArgs,
  data,
  type LoaderFunctionArgs,
  type MetaFunction,
  redirect,
} from "@remix-run/node";
import { Form, useActionData, useLoaderData, useLocation, useNavigation } from "@remix-run/react";
import { TRPCError } from "@trpc/server";
import type { SettingKey } from "../../server/services/settings.schema";
import { CsrfField, Field, FormAlert } from "../components/form-fields";
import { NumberSetting, OverriddenSetting, SettingsSection } from "../components/settings-fields";
import {
  type FieldErrors,
  friendlyErrors,
  overrideVariable,
  rangeText,
  toDisplay,
} from "../components/settings-rules.server";
import { callerFor, formError, pageError } from "../trpc/caller.server";
import { requireCapability } from "../utils/guards.server";
import { noStoreHeaders } from "../utils/headers";

export const meta: MetaFunction = () => [{ title: "Settings · OpsDesk" }];

export const headers = noStoreHeaders;

/** Settings typed as numbers in a friendlier unit than the one stored. */
const NUMBER_FIELDS = {
  "prometheus.timeoutMs": { label: "Query timeout (seconds)", unit: "seconds", factor: 1000 },
  "metrics.snapshotTtlSeconds": { label: "Snapshot TTL (hours)", unit: "hours", factor: 3600 },
  "metrics.cleanupIntervalSeconds": { label: "Cleanup interval (minutes)", unit: "minutes", factor: 60 },
  "import.maxBytes": { label: "Max CSV file size (MB)", unit: "MB", factor: 1024 * 1024 },
  "import.maxRows": { label: "Max rows per import", unit: "rows", factor: 1 },
  "artifacts.maxBytes": { label: "Max upload size (MB)", unit: "MB", factor: 1024 * 1024 },
} as const satisfies Partial<Record<SettingKey, { label: string; unit: string; factor: number }>>;
type NumberKey = keyof typeof NUMBER_FIELDS;
const NUMBER_KEYS = Object.keys(NUMBER_FIELDS) as NumberKey[];

/** The text fields of the form (the token is never echoed back, so it is not one of them). */
type FormValues = Record<NumberKey | "prometheus.url" | "ssh.defaultTemplate", string>;

const TOKEN = "metrics.endpointToken";
const TOKEN_CLEAR = "metrics.endpointToken.clear";

/** The id of a setting's input (setting keys contain dots, awkward in CSS selectors). */
const fieldId = (key: string) => key.replaceAll(".", "-");

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireCapability(request, context, "admin.manage");
  const identity = await context.identity();
  const caller = await callerFor(request, context);
  const settings = await caller.settings.get().catch((e) => pageError(e, request));
  const values = {
    "prometheus.url": settings["prometheus.url"],
    "ssh.defaultTemplate": settings["ssh.defaultTemplate"],
  } as FormValues;
  const hints = {} as Record<NumberKey, string>;
  for (const key of NUMBER_KEYS) {
    values[key] = toDisplay(settings[key], NUMBER_FIELDS[key].factor);
    hints[key] = rangeText(key, NUMBER_FIELDS[key]);
  }
  return {
    csrfToken: identity.csrfToken,
    saved: new URL(request.url).searchParams.get("saved") === "1",
    values,
    hints,
    // Never the token itself: only whether there is one.
    tokenSet: settings.metricsEndpointTokenSet,
    overridden: settings.overridden.map((key) => ({ key, variable: overrideVariable(key) })),
  };
}

type ActionResult = {
  intent: "save" | "test";
  values: FormValues;
  error?: string | null;
  fieldErrors?: FieldErrors | null;
  notice?: string | null;
};

const text = (form: FormData, name: string): string => {
  const value = form.get(name);
  return typeof value === "string" ? value : "";
};

export async function action({ request, context }: ActionFunctionArgs) {
  const form = await request.formData();
  const headers = new Headers();
  const caller = await callerFor(request, context, headers, { formCsrfToken: form.get("_csrf") });
  const intent = text(form, "intent") === "test" ? "test" : "save";
  const values = {
    "prometheus.url": text(form, "prometheus.url").trim(),
    "ssh.defaultTemplate": text(form, "ssh.defaultTemplate").trim(),
  } as FormValues;
  for (const key of NUMBER_KEYS) values[key] = text(form, key).trim();
  const newToken = text(form, TOKEN).trim();
  const answer = (result: Omit<ActionResult, "intent" | "values">, status = 200) =>
    data<ActionResult>({ intent, values, ...result }, { status, headers });

  try {
    const current = await caller.settings.get();
    const editable = (key: SettingKey) => !current.overridden.includes(key);

    if (intent === "test") {
      // The URL typed in the form, else the saved (or environment) one.
      const typedUrl = editable("prometheus.url") ? values["prometheus.url"] : "";
      const result = await caller.settings.testPrometheus({ url: typedUrl || undefined });
      const version = result.version ? ` ${result.version}` : "";
      return answer({ notice: `Connected to Prometheus${version} in ${result.tookMs} ms` });
    }

    // Only the keys whose value changed are sent, in stored units.
    const patch: Record<string, unknown> = {};
    const fieldErrors: FieldErrors = {};
    for (const key of NUMBER_KEYS) {
      if (!editable(key)) continue;
      const typed = values[key];
      const number = Number(typed);
      if (typed === "" || !Number.isFinite(number)) {
        fieldErrors[key] = [`Enter a number from ${rangeText(key, NUMBER_FIELDS[key])}.`];
        continue;
      }
      const stored = Math.round(number * NUMBER_FIELDS[key].factor);
      if (stored !== current[key]) patch[key] = stored;
    }
    for (const key of ["prometheus.url", "ssh.defaultTemplate"] as const) {
      if (editable(key) && values[key] !== current[key]) patch[key] = values[key];
    }
    if (editable(TOKEN)) {
      const clear = form.get(TOKEN_CLEAR) === "on";
      if (clear && newToken) fieldErrors[TOKEN] = ["Either enter a new token or clear it, not both."];
      else if (clear && current.metricsEndpointTokenSet) patch[TOKEN] = "";
      else if (newToken) patch[TOKEN] = newToken;
    }
    if (Object.keys(fieldErrors).length > 0) {
      return answer({ error: errorText("Check the highlighted fields.", newToken), fieldErrors }, 400);
    }
    if (Object.keys(patch).length === 0) return answer({ notice: "Nothing to save: no value was changed." });
    await caller.settings.update(patch);
    return redirect("/settings?saved=1", { headers });
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    if (error.code === "UNAUTHORIZED") pageError(error, request);
    const failure = formError(error);
    const fieldErrors = friendlyErrors(failure.fieldErrors, NUMBER_FIELDS);
    // testPrometheus names its input `url`: that is the Prometheus URL field.
    if (fieldErrors?.url) {
      fieldErrors["prometheus.url"] = fieldErrors.url;
      delete fieldErrors.url;
    }
    return answer({ error: errorText(failure.message, intent === "save" ? newToken : ""), fieldErrors }, failure.status);
  }
}

/** A typed token is never sent back in the page: say so, so it is not lost unnoticed. */
const errorText = (message: string, newToken: string) =>
  newToken ? `${message} The new metrics token was not kept: enter it again.` : message;

export default function SettingsPage() {
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const location = useLocation();
  const submitting = navigation.state === "submitting" ? navigation.formData?.get("intent") : null;
  const values: FormValues = result?.values ?? page.values;
  const errors = result?.fieldErrors ?? {};
  const variableOf = (key: SettingKey) => page.overridden.find((o) => o.key === key)?.variable ?? null;
  const urlVariable = variableOf("prometheus.url");
  const tokenVariable = variableOf(TOKEN);

  const number = (key: NumberKey, hint?: string) => (
    <NumberSetting
      id={fieldId(key)}
      name={key}
      label={NUMBER_FIELDS[key].label}
      defaultValue={values[key]}
      errors={errors[key]}
      hint={hint ? `${hint} Allowed: ${page.hints[key]}.` : `Allowed: ${page.hints[key]}.`}
      wholeNumber={NUMBER_FIELDS[key].factor === 1}
    />
  );

  return (
    <div className="mx-auto max-w-3xl">
      <h1 className="mb-4 text-2xl font-bold">Settings</h1>
      {/* The answer to the last submission; hidden while the next one runs. */}
      {submitting ? null : (
        <>
          {page.saved && !result ? <FormAlert ok message="Settings saved" /> : null}
          {result?.notice ? <FormAlert ok message={result.notice} /> : null}
          <FormAlert message={result?.error} />
        </>
      )}

      {/* Remounted after every submission, so the fields show what the server answered. */}
      <Form method="post" replace key={location.key}>
        <CsrfField token={page.csrfToken} />
        {/* Enter in any field saves (the first submit button is the form's default). */}
        <button type="submit" name="intent" value="save" className="hidden" tabIndex={-1} aria-hidden="true">
          Save
        </button>

        <SettingsSection
          id="prometheus"
          title="Prometheus"
          intro="Where host metrics come from, how long a query may take, and how long a snapshot stays."
        >
          {urlVariable ? (
            <OverriddenSetting id={fieldId("prometheus.url")} label="Prometheus URL" variable={urlVariable} value={values["prometheus.url"]} />
          ) : (
            <Field
              label="Prometheus URL"
              name={fieldId("prometheus.url")}
              errors={errors["prometheus.url"]}
              hint="For example http://prometheus:9090. Leave it empty to turn metrics off."
            >
              <input
                className="input"
                id={fieldId("prometheus.url")}
                name="prometheus.url"
                type="url"
                inputMode="url"
                placeholder="http://prometheus:9090"
                defaultValue={values["prometheus.url"]}
                aria-invalid={errors["prometheus.url"] ? true : undefined}
                aria-describedby={errors["prometheus.url"] ? `${fieldId("prometheus.url")}-error` : undefined}
              />
            </Field>
          )}
          <div className="mb-4">
            <button type="submit" name="intent" value="test" className="btn" formNoValidate disabled={Boolean(submitting)}>
              {submitting === "test" ? "Testing…" : "Test connection"}
            </button>
            <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">
              Checks the URL above (the saved one when the field is empty). Saves nothing.
            </p>
          </div>
          {number("prometheus.timeoutMs", "How long one metrics refresh may wait for Prometheus.")}
          {number("metrics.snapshotTtlSeconds", "How long a metrics snapshot is kept before it expires.")}
          {number("metrics.cleanupIntervalSeconds", "How often expired snapshots are deleted.")}
        </SettingsSection>

        <SettingsSection
          id="metrics-endpoint"
          title="Metrics endpoint"
          intro={
            <>
              A bearer token that <code>GET /metrics</code> requires. Without one, the endpoint answers anyone who can reach
              it.
            </>
          }
        >
          {tokenVariable ? (
            <OverriddenSetting id={fieldId(TOKEN)} label="Bearer token" variable={tokenVariable} value={null} />
          ) : (
            <>
              <p className="mb-3 text-sm">
                Bearer token:{" "}
                <strong data-testid="metrics-token-state">{page.tokenSet ? "set" : "not set"}</strong>
              </p>
              <Field
                label={page.tokenSet ? "Replace the token" : "Set a token"}
                name={fieldId(TOKEN)}
                errors={errors[TOKEN]}
                hint="Leave it empty to keep the current token. The stored token is never shown."
              >
                <input
                  className="input font-mono"
                  id={fieldId(TOKEN)}
                  name={TOKEN}
                  type="password"
                  autoComplete="new-password"
                  maxLength={200}
                  aria-invalid={errors[TOKEN] ? true : undefined}
                />
              </Field>
              {page.tokenSet ? (
                <label className="mb-3 flex items-center gap-2 text-sm">
                  <input type="checkbox" name={TOKEN_CLEAR} />
                  Clear the token (<code>GET /metrics</code> then needs no token)
                </label>
              ) : null}
            </>
          )}
        </SettingsSection>

        <SettingsSection id="ssh" title="SSH" intro="The command template for hosts that have no template of their own.">
          <Field
            label="Default SSH template"
            name={fieldId("ssh.defaultTemplate")}
            errors={errors["ssh.defaultTemplate"]}
            hint={
              <>
                Placeholders: <code>{"{{host}}"}</code> is the host's IP address when one is set, else its hostname;{" "}
                <code>{"{{hostname}}"}</code>, <code>{"{{ip}}"}</code>, <code>{"{{port}}"}</code>, <code>{"{{user}}"}</code>,{" "}
                <code>{"{{bastion}}"}</code>. A part in <code>[[ … ]]</code> is optional: it is dropped when a placeholder
                inside it is empty, e.g. <code>{"[[ -J {{bastion}}]]"}</code> only for hosts with a bastion.
              </>
            }
          >
            <input
              className="input font-mono"
              id={fieldId("ssh.defaultTemplate")}
              name="ssh.defaultTemplate"
              defaultValue={values["ssh.defaultTemplate"]}
              required
              maxLength={500}
              spellCheck={false}
              autoCapitalize="off"
              autoCorrect="off"
              aria-invalid={errors["ssh.defaultTemplate"] ? true : undefined}
            />
          </Field>
        </SettingsSection>

        <SettingsSection id="import" title="CSV import limits" intro="Larger files or more rows are refused before anything is imported.">
          {number("import.maxBytes", "1 MB = 1,048,576 bytes.")}
          {number("import.maxRows")}
        </SettingsSection>

        <SettingsSection id="artifacts" title="Artifacts" intro="Files uploaded to a host.">
          {number("artifacts.maxBytes", "Larger uploads are refused.")}
        </SettingsSection>

        <button type="submit" name="intent" value="save" className="btn btn-primary" disabled={Boolean(submitting)}>
          {submitting === "save" ? "Saving…" : "Save"}
        </button>
      </Form>
    </div>
  );
}
