import { isIP } from "node:net";
import { z } from "zod";
import {
  type Checked,
  checkBastion,
  checkEnvironment,
  checkHostname,
  checkIp,
  checkNotes,
  checkOs,
  checkPort,
  checkPrometheusInstance,
  checkSshUser,
} from "./field-rules";
import { validateSshTemplate } from "./ssh-template";
import { normaliseTags } from "./tags";

// Host fields as the UI, the API and the CSV import accept them. Inputs come from HTML
// forms and CSV cells as much as from JSON, so strings are trimmed, a blank optional
// field means "not set" (stored as null), and a port may arrive as "2222".
//
// One table of rules drives both the zod schemas (API, forms) and checkHostFields (the
// CSV import, where zod's per-field overhead would dominate a 100,000-row file), so
// the two can never disagree.

const isBlank = (value: unknown) =>
  value === undefined || value === null || (typeof value === "string" && value.trim() === "");

type FieldRule<T> = (raw: unknown) => Checked<T>;

/** Text that must be present. Missing counts as blank, so it gets the check's "is required". */
function requiredText(label: string, check: (raw: string) => Checked<string>): FieldRule<string> {
  return (raw) => {
    if (raw === undefined || raw === null) return check("");
    return typeof raw === "string" ? check(raw) : { ok: false, message: `${label} must be text` };
  };
}

/** Optional text: blank or missing is stored as null. */
function optionalText(label: string, check: (raw: string) => Checked<string>): FieldRule<string | null> {
  return (raw) => {
    if (isBlank(raw)) return { ok: true, value: null };
    return typeof raw === "string" ? check(raw) : { ok: false, message: `${label} must be text` };
  };
}

function checkSshTemplate(raw: string): Checked<string> {
  const value = raw.trim();
  const errors = validateSshTemplate(value);
  return errors.length === 0 ? { ok: true, value } : { ok: false, message: errors.join("; ") };
}

const FIELD_RULES = {
  hostname: requiredText("Hostname", checkHostname),
  ip: optionalText("IP address", checkIp),
  // Blank means "use the default", which is what an emptied form field asks for.
  port: (raw: unknown): Checked<number> => (isBlank(raw) ? { ok: true, value: 22 } : checkPort(raw)),
  sshUser: optionalText("SSH user", checkSshUser),
  bastion: optionalText("Bastion", checkBastion),
  environment: optionalText("Environment", checkEnvironment),
  os: optionalText("OS", checkOs),
  tags: (raw: unknown): Checked<string[]> => (isBlank(raw) ? { ok: true, value: [] } : normaliseTags(raw)),
  prometheusInstance: optionalText("Prometheus instance", checkPrometheusInstance),
  notes: (raw: unknown): Checked<string> => {
    if (isBlank(raw)) return { ok: true, value: "" };
    return typeof raw === "string" ? checkNotes(raw) : { ok: false, message: "Notes must be text" };
  },
  sshTemplate: optionalText("SSH template", checkSshTemplate),
};

type FieldRules = typeof FIELD_RULES;
export type HostFieldName = keyof FieldRules;
/** A host's fields as stored: normalised, optional ones null when unset. */
export type HostFields = { [K in HostFieldName]: FieldRules[K] extends FieldRule<infer T> ? T : never };
/** A change to a host: only the fields present are changed. */
export type HostPatch = Partial<HostFields>;

export const HOST_FIELD_NAMES = Object.keys(FIELD_RULES) as HostFieldName[];

export type HostFieldIssue = { field: HostFieldName; message: string };

/**
 * The same validation as hostFieldsSchema, without zod: every problem, one per field.
 * Keys other than host fields are ignored.
 */
export function checkHostFields(
  raw: Partial<Record<HostFieldName, unknown>>,
  memo?: HostFieldsMemo,
): { ok: true; value: HostFields } | { ok: false; issues: HostFieldIssue[] } {
  const value: Record<string, unknown> = {};
  const issues: HostFieldIssue[] = [];
  for (const field of HOST_FIELD_NAMES) {
    const checked = memo ? memo.check(field, raw[field]) : FIELD_RULES[field](raw[field]);
    if (checked.ok) value[field] = checked.value;
    else issues.push({ field, message: checked.message });
  }
  return issues.length === 0 ? { ok: true, value: value as HostFields } : { ok: false, issues };
}

// Fields whose values repeat across an inventory (a few bastions, users, environments,
// systems, tag sets, templates) and whose rules are pure functions of the text.
const MEMO_FIELDS: ReadonlySet<HostFieldName> = new Set(["port", "sshUser", "bastion", "environment", "os", "tags", "sshTemplate"]);
const MEMO_ENTRIES_PER_FIELD = 1_024;

/**
 * Remembers the checked result of repeated text values, for a bulk reader checking
 * thousands of rows (a CSV import): the rule runs once per distinct value. Results are
 * shared between rows, so they must not be modified (tags arrays included).
 */
export class HostFieldsMemo {
  private readonly results = new Map<HostFieldName, Map<string, Checked<unknown>>>();

  check(field: HostFieldName, raw: unknown): Checked<unknown> {
    if (typeof raw !== "string" || !MEMO_FIELDS.has(field)) return FIELD_RULES[field](raw);
    let known = this.results.get(field);
    if (!known) {
      known = new Map();
      this.results.set(field, known);
    }
    let checked = known.get(raw);
    if (checked === undefined) {
      checked = FIELD_RULES[field](raw);
      if (known.size < MEMO_ENTRIES_PER_FIELD) known.set(raw, checked);
    }
    return checked;
  }
}

// `unknown().optional()` so a missing key still reaches the rule (which supplies the
// default), while `.optional()` on top of it keeps a missing key missing in a patch.
function fieldSchema<T>(rule: FieldRule<T>) {
  return z
    .unknown()
    .optional()
    .transform((raw, ctx): T => {
      const checked = rule(raw);
      if (checked.ok) return checked.value;
      ctx.issues.push({ code: "custom", message: checked.message, input: raw });
      return z.NEVER;
    });
}

const fieldSchemas = {
  hostname: fieldSchema(FIELD_RULES.hostname),
  ip: fieldSchema(FIELD_RULES.ip),
  port: fieldSchema(FIELD_RULES.port),
  sshUser: fieldSchema(FIELD_RULES.sshUser),
  bastion: fieldSchema(FIELD_RULES.bastion),
  environment: fieldSchema(FIELD_RULES.environment),
  os: fieldSchema(FIELD_RULES.os),
  tags: fieldSchema(FIELD_RULES.tags),
  prometheusInstance: fieldSchema(FIELD_RULES.prometheusInstance),
  notes: fieldSchema(FIELD_RULES.notes),
  sshTemplate: fieldSchema(FIELD_RULES.sshTemplate),
};

/**
 * A host as created: every field present in the output. Missing optional fields
 * become null, port 22, tags [], notes "". Unknown keys are dropped.
 */
export const hostFieldsSchema = z.object(fieldSchemas);

/**
 * A change to a host: a missing key leaves the field as it is; null or a blank string
 * clears an optional field (port goes back to 22, tags to [], notes to "").
 */
export const hostPatchSchema = z.object({
  hostname: fieldSchemas.hostname.optional(),
  ip: fieldSchemas.ip.optional(),
  port: fieldSchemas.port.optional(),
  sshUser: fieldSchemas.sshUser.optional(),
  bastion: fieldSchemas.bastion.optional(),
  environment: fieldSchemas.environment.optional(),
  os: fieldSchemas.os.optional(),
  tags: fieldSchemas.tags.optional(),
  prometheusInstance: fieldSchemas.prometheusInstance.optional(),
  notes: fieldSchemas.notes.optional(),
  sshTemplate: fieldSchemas.sshTemplate.optional(),
});

/** Where Prometheus' node exporter usually listens for a host: `<ip or hostname>:9100`. */
export function defaultPrometheusInstance(host: { ip?: string | null; hostname: string }): string {
  const address = host.ip ? host.ip : host.hostname;
  return isIP(address) === 6 ? `[${address}]:9100` : `${address}:9100`;
}
