import type { ReactNode } from "react";
import { Field } from "./form-fields";

/** One group of settings on /settings: a card with a heading and a short explanation. */
export function SettingsSection({
  id,
  title,
  intro,
  children,
}: {
  id: string;
  title: string;
  intro?: ReactNode;
  children: ReactNode;
}) {
  return (
    <section className="card mb-4" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`} className="mb-1 text-lg font-semibold">
        {title}
      </h2>
      {intro ? <p className="mb-3 text-sm text-slate-600 dark:text-slate-400">{intro}</p> : null}
      {children}
    </section>
  );
}

/** A setting an environment variable wins over: shown, never editable here. */
export function OverriddenSetting({
  id,
  label,
  variable,
  value,
}: {
  id: string;
  label: string;
  variable: string;
  /** What to show; null shows no value at all (secrets). */
  value: string | null;
}) {
  return (
    <div className="mb-3">
      {value !== null ? (
        <>
          <label className="label" htmlFor={id}>
            {label}
          </label>
          {/* No name: it is not posted, and the server refuses to change it anyway. */}
          <input className="input bg-slate-100 dark:bg-slate-800" id={id} value={value} readOnly aria-describedby={`${id}-source`} />
        </>
      ) : (
        <span className="label">{label}</span>
      )}
      <p className="mt-1 text-sm" id={`${id}-source`}>
        <span className="rounded border border-amber-300 bg-amber-50 px-1.5 py-0.5 text-xs text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-200">
          set by {variable}
        </span>{" "}
        <span className="text-xs text-slate-500 dark:text-slate-400">
          Read-only here: change or unset {variable} in the environment and restart OpsDesk.
        </span>
      </p>
    </div>
  );
}

/** A number typed in display units (seconds, hours, MB …); the page converts it back. */
export function NumberSetting({
  id,
  name,
  label,
  defaultValue,
  errors,
  hint,
  wholeNumber,
}: {
  id: string;
  name: string;
  label: string;
  defaultValue: string;
  errors?: string[] | null;
  hint?: ReactNode;
  wholeNumber?: boolean;
}) {
  const invalid = Boolean(errors?.length);
  return (
    <Field label={label} name={id} errors={errors} hint={hint}>
      <input
        className="input max-w-xs"
        id={id}
        name={name}
        type="number"
        // No min/max here: the server's rule is the one shown, beside the field.
        step={wholeNumber ? "1" : "any"}
        inputMode={wholeNumber ? "numeric" : "decimal"}
        defaultValue={defaultValue}
        required
        aria-invalid={invalid || undefined}
        aria-describedby={invalid ? `${id}-error` : undefined}
      />
    </Field>
  );
}
