import { Form, Link } from "@remix-run/react";
import type { ReactNode } from "react";
import type { HostView } from "../../server/services/hosts/host-view";
import { CsrfField, Field } from "./form-fields";

/** The host fields as the form carries them: every value a string, tags as "a; b". */
export const HOST_FORM_FIELDS = [
  "hostname",
  "ip",
  "port",
  "sshUser",
  "bastion",
  "environment",
  "os",
  "tags",
  "prometheusInstance",
  "notes",
  "sshTemplate",
] as const;
export type HostFormField = (typeof HOST_FORM_FIELDS)[number];
export type HostFormValues = Record<HostFormField, string>;

export const HOST_FIELD_LABELS: Record<HostFormField, string> = {
  hostname: "Hostname",
  ip: "IP address",
  port: "Port",
  sshUser: "SSH user",
  bastion: "Bastion",
  environment: "Environment",
  os: "OS",
  tags: "Tags",
  prometheusInstance: "Prometheus instance",
  notes: "Notes",
  sshTemplate: "SSH template",
};

export const EMPTY_HOST_FORM: HostFormValues = {
  hostname: "",
  ip: "",
  port: "22",
  sshUser: "",
  bastion: "",
  environment: "",
  os: "",
  tags: "",
  prometheusInstance: "",
  notes: "",
  sshTemplate: "",
};

/** What the user submitted, field by field (missing fields are empty). */
export function hostFormValuesFrom(form: FormData): HostFormValues {
  const values = { ...EMPTY_HOST_FORM };
  for (const field of HOST_FORM_FIELDS) {
    const value = form.get(field);
    values[field] = typeof value === "string" ? value : "";
  }
  return values;
}

/** A stored host as the form shows it. */
export function hostToFormValues(host: Pick<HostView, HostFormField>): HostFormValues {
  return {
    hostname: host.hostname,
    ip: host.ip ?? "",
    port: String(host.port),
    sshUser: host.sshUser ?? "",
    bastion: host.bastion ?? "",
    environment: host.environment ?? "",
    os: host.os ?? "",
    tags: host.tags.join("; "),
    prometheusInstance: host.prometheusInstance ?? "",
    notes: host.notes,
    sshTemplate: host.sshTemplate ?? "",
  };
}

/**
 * A form value as it would be stored, for comparing two versions of a field without
 * flagging differences the server ignores (case, spacing, tag separators, blank port).
 */
export function normalisedFormValue(field: HostFormField, value: string): string {
  const trimmed = value.replace(/\r\n/g, "\n").trim();
  switch (field) {
    case "hostname":
    case "environment":
      return trimmed.toLowerCase();
    case "port":
      return trimmed === "" ? "22" : trimmed.replace(/^0+(?=\d)/, "");
    case "tags":
      return [
        ...new Set(
          trimmed
            .split(/[;,]/)
            .map((tag) => tag.trim().toLowerCase())
            .filter(Boolean),
        ),
      ].join("; ");
    default:
      return trimmed;
  }
}

const mono = "input font-mono";

const HINTS: Partial<Record<HostFormField, ReactNode>> = {
  hostname: 'Letters, digits, "-" and "."; stored in lower case. Must be unique.',
  ip: "IPv4 or IPv6. When set, SSH and metrics use it instead of the hostname.",
  port: "SSH port. Blank means 22.",
  sshUser: "Blank: ssh uses your local default user.",
  bastion: (
    <>
      Jump hosts for <code>ssh -J</code>, e.g. <code>jump1</code> or <code>admin@jump1:2222,jump2</code>.
    </>
  ),
  environment: (
    <>
      A short slug such as <code>prod</code> or <code>staging-eu</code>.
    </>
  ),
  tags: (
    <>
      Separate tags with <code>;</code> (or <code>,</code>), e.g. <code>web; eu-west</code>.
    </>
  ),
  prometheusInstance: (
    <>
      The <code>instance</code> label Prometheus scrapes this host under. Blank uses the default:{" "}
      <code>&lt;ip or hostname&gt;:9100</code>.
    </>
  ),
  sshTemplate: (
    <>
      Blank uses the default template from settings. Placeholders: <code>{"{{user}}"}</code> <code>{"{{host}}"}</code>{" "}
      <code>{"{{port}}"}</code> <code>{"{{bastion}}"}</code> <code>{"{{hostname}}"}</code> <code>{"{{ip}}"}</code>.{" "}
      <code>{"{{host}}"}</code> is the IP address when one is set, else the hostname. A part inside{" "}
      <code>[[ … ]]</code> is optional: it is dropped when a placeholder inside it is empty, e.g.{" "}
      <code>{"ssh[[ -J {{bastion}}]] -p {{port}} [[{{user}}@]]{{host}}"}</code>.
    </>
  ),
};

type FieldErrors = Record<string, string[] | undefined> | null | undefined;

function inputProps(name: HostFormField, errors: FieldErrors) {
  const invalid = Boolean(errors?.[name]?.length);
  return {
    id: name,
    name,
    "aria-invalid": invalid || undefined,
    "aria-describedby": invalid ? `${name}-error` : undefined,
  };
}

/**
 * The host form of /hosts/new and /hosts/:id/edit: plain fields, so it works without
 * JavaScript; the server validates and answers with errors beside each field.
 * Give it a `key` that changes with each answer so the fields show `values` again.
 */
export function HostForm({
  values,
  fieldErrors,
  csrfToken,
  version,
  submitLabel,
  busy,
  cancelTo,
}: {
  values: HostFormValues;
  fieldErrors?: FieldErrors;
  csrfToken: string | null | undefined;
  /** For edits: the version the values were based on (a stale one is a conflict). */
  version?: number;
  submitLabel: string;
  busy?: boolean;
  cancelTo: string;
}) {
  const errors = (name: HostFormField) => fieldErrors?.[name];
  const text = (name: HostFormField, extra: { className?: string; maxLength?: number; placeholder?: string; required?: boolean; inputMode?: "numeric" | "text" } = {}) => (
    <Field label={HOST_FIELD_LABELS[name]} name={name} errors={errors(name)} hint={HINTS[name]}>
      <input
        {...inputProps(name, fieldErrors)}
        className={extra.className ?? "input"}
        type="text"
        defaultValue={values[name]}
        maxLength={extra.maxLength}
        placeholder={extra.placeholder}
        required={extra.required}
        inputMode={extra.inputMode}
        autoComplete="off"
        spellCheck={false}
      />
    </Field>
  );
  return (
    <Form method="post" className="card">
      <CsrfField token={csrfToken} />
      {version !== undefined ? <input type="hidden" name="version" value={version} /> : null}
      <div className="grid gap-x-4 md:grid-cols-2">
        {text("hostname", { maxLength: 253, required: true, placeholder: "web-01.example.com" })}
        {text("ip", { maxLength: 64, placeholder: "10.0.0.5" })}
        {text("port", { maxLength: 5, inputMode: "numeric" })}
        {text("sshUser", { maxLength: 32, placeholder: "deploy" })}
        {text("bastion", { className: mono, maxLength: 500, placeholder: "jump.example.com" })}
        {text("environment", { maxLength: 32, placeholder: "prod" })}
        {text("os", { maxLength: 100, placeholder: "Debian 12" })}
        {text("tags", { maxLength: 2000, placeholder: "web; eu-west" })}
        {text("prometheusInstance", { className: mono, maxLength: 255, placeholder: "10.0.0.5:9100" })}
      </div>
      <Field label={HOST_FIELD_LABELS.notes} name="notes" errors={errors("notes")}>
        <textarea
          {...inputProps("notes", fieldErrors)}
          className="input min-h-24"
          rows={5}
          maxLength={10_000}
          defaultValue={values.notes}
        />
      </Field>
      {text("sshTemplate", { className: mono, maxLength: 500, placeholder: "ssh[[ -J {{bastion}}]] -p {{port}} [[{{user}}@]]{{host}}" })}
      <div className="flex items-center gap-3">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Saving…" : submitLabel}
        </button>
        <Link to={cancelTo} className="link">
          Cancel
        </Link>
      </div>
    </Form>
  );
}
