import { ENV_OVERRIDES, SETTINGS_SCHEMA, type SettingKey } from "../../server/services/settings.schema";

/*
 * Server-only helpers of the /settings page: they read the settings schema (zod), which
 * must not end up in the browser bundle.
 */

export type FieldErrors = Record<string, string[] | undefined>;

/** A number setting typed in a display unit: `factor` stored units make one display unit. */
export type NumberFieldUnit = { unit: string; factor: number };

/** Stored value → display units, without float noise (0.30000000000000004). */
export const toDisplay = (value: number, factor: number) => String(Number((value / factor).toPrecision(12)));

type NumberSettingKey = {
  [K in SettingKey]: (typeof SETTINGS_SCHEMA)[K] extends { minValue: number | null } ? K : never;
}[SettingKey];

/** The allowed range of a number setting in its display unit, from the settings schema. */
export function rangeText(key: NumberSettingKey, { unit, factor }: NumberFieldUnit): string {
  const schema = SETTINGS_SCHEMA[key];
  const min = toDisplay(schema.minValue ?? 0, factor);
  const max = toDisplay(schema.maxValue ?? Number.MAX_SAFE_INTEGER, factor);
  return unit === "rows" ? `${min} to ${max}` : `${min} to ${max} ${unit}`;
}

/** Zod's wording is about stored units (ms, bytes): say it in the units of the form. */
export function friendlyErrors(
  fieldErrors: FieldErrors | null,
  numberFields: Partial<Record<NumberSettingKey, NumberFieldUnit>>,
): FieldErrors | null {
  if (!fieldErrors) return null;
  const out: FieldErrors = { ...fieldErrors };
  for (const [key, unit] of Object.entries(numberFields) as [NumberSettingKey, NumberFieldUnit][]) {
    if (out[key]?.length) {
      out[key] = [`Enter ${unit.factor === 1 ? "a whole number" : "a number"} from ${rangeText(key, unit)}.`];
    }
  }
  const template = SETTINGS_SCHEMA["ssh.defaultTemplate"];
  if (out["ssh.defaultTemplate"]?.length) {
    out["ssh.defaultTemplate"] = [`Enter a template of ${template.minLength} to ${template.maxLength} characters.`];
  }
  const token = SETTINGS_SCHEMA["metrics.endpointToken"];
  if (out["metrics.endpointToken"]?.length) {
    out["metrics.endpointToken"] = [`A token can be at most ${token.maxLength} characters.`];
  }
  return out;
}

/** The environment variable that sets `key`, for "set by …". */
export const overrideVariable = (key: SettingKey): string => ENV_OVERRIDES[key] ?? "an environment variable";
