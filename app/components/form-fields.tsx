import type { ReactNode } from "react";

/** A labelled input with its field errors; plain HTML so it works without JavaScript. */
export function Field({
  label,
  name,
  errors,
  hint,
  children,
}: {
  label: string;
  name: string;
  errors?: string[] | null;
  hint?: ReactNode;
  children: ReactNode;
}) {
  return (
    <div className="mb-3">
      <label className="label" htmlFor={name}>
        {label}
      </label>
      {children}
      {hint ? <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">{hint}</p> : null}
      {errors?.map((error) => (
        <p key={error} className="field-error" id={`${name}-error`}>
          {error}
        </p>
      ))}
    </div>
  );
}

export function FormAlert({ message, ok }: { message?: string | null; ok?: boolean }) {
  if (!message) return null;
  return (
    <p role={ok ? "status" : "alert"} className={ok ? "alert-ok mb-3" : "alert-error mb-3"}>
      {message}
    </p>
  );
}

/** The session's CSRF token, posted back with every form. */
export function CsrfField({ token }: { token: string | null | undefined }) {
  return token ? <input type="hidden" name="_csrf" value={token} /> : null;
}
