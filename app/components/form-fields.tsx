import { cloneElement, isValidElement, type ReactElement, type ReactNode } from "react";

type ControlProps = { "aria-invalid"?: boolean | "true" | "false"; "aria-describedby"?: string };

/** Space-separated ids without repeats or blanks (a control may already name some itself). */
function joinIds(...lists: (string | undefined | null)[]): string | undefined {
  const ids = [...new Set(lists.flatMap((list) => (list ?? "").split(/\s+/)).filter(Boolean))];
  return ids.length ? ids.join(" ") : undefined;
}

/**
 * A labelled input with its hint and field errors; plain HTML so it works without
 * JavaScript. The control (the one child element, whose id is `name`) is marked
 * aria-invalid while it has errors and described by the hint and the errors, so a screen
 * reader announces them with the field, not only somewhere on the page.
 */
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
  const invalid = Boolean(errors?.length);
  const hintId = hint ? `${name}-hint` : null;
  const errorId = invalid ? `${name}-error` : null;
  const control = isValidElement<ControlProps>(children)
    ? cloneElement(children as ReactElement<ControlProps>, {
        "aria-invalid": invalid || children.props["aria-invalid"] || undefined,
        "aria-describedby": joinIds(children.props["aria-describedby"], hintId, errorId),
      })
    : children;
  return (
    <div className="mb-3">
      <label className="label" htmlFor={name}>
        {label}
      </label>
      {control}
      {hint ? (
        <p className="mt-1 text-xs text-slate-500 dark:text-slate-400" id={hintId ?? undefined}>
          {hint}
        </p>
      ) : null}
      {invalid ? (
        <div id={errorId ?? undefined}>
          {errors?.map((error) => (
            <p key={error} className="field-error">
              {error}
            </p>
          ))}
        </div>
      ) : null}
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
