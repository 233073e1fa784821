import { Link } from "@remix-run/react";
import type { HostView } from "../../server/services/hosts/host-view";
import {
  HOST_FIELD_LABELS,
  HOST_FORM_FIELDS,
  type HostFormValues,
  hostToFormValues,
  normalisedFormValue,
} from "./host-form";

function Value({ value, highlight }: { value: string; highlight: boolean }) {
  if (value.trim() === "") return <span className="text-slate-500 dark:text-slate-400">(empty)</span>;
  const text = <span className="whitespace-pre-wrap break-words font-mono text-xs">{value}</span>;
  return highlight ? <mark className="rounded bg-amber-200 px-1 text-slate-900 dark:bg-amber-700 dark:text-white">{text}</mark> : text;
}

/**
 * Shown when someone else saved the host after the user opened the form: every field
 * with the stored value beside the user's, differences highlighted. The form below it
 * keeps the user's values on top of the new version, so saving again applies them.
 */
export function HostConflictPanel({
  message,
  current,
  yours,
  reloadTo,
}: {
  message: string;
  current: HostView;
  yours: HostFormValues;
  reloadTo: string;
}) {
  const stored = hostToFormValues(current);
  const rows = HOST_FORM_FIELDS.map((field) => ({
    field,
    stored: stored[field],
    yours: yours[field],
    differs: normalisedFormValue(field, stored[field]) !== normalisedFormValue(field, yours[field]),
  }));
  const differing = rows.filter((row) => row.differs).length;
  return (
    <section
      className="mb-4 rounded border border-amber-300 bg-amber-50 p-4 dark:border-amber-700 dark:bg-amber-950"
      aria-labelledby="conflict-heading"
      data-testid="conflict-panel"
    >
      <h2 id="conflict-heading" className="mb-1 text-lg font-semibold">
        Someone else changed this host
      </h2>
      <p role="alert" className="mb-2 text-sm">
        {message}
      </p>
      <p className="mb-3 text-sm">
        {differing === 0
          ? "Their values and yours are the same."
          : `${differing} ${differing === 1 ? "field differs" : "fields differ"} (highlighted).`}{" "}
        The form below still holds your values: press Save to apply them on top of version {current.version}, or{" "}
        <Link to={reloadTo} className="link" reloadDocument>
          discard your changes and load the stored values
        </Link>
        .
      </p>
      <div className="overflow-x-auto">
        <table className="table bg-white dark:bg-slate-800">
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Stored now</th>
              <th scope="col">Yours</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.field} data-differs={row.differs ? "true" : undefined} className={row.differs ? "bg-amber-50 dark:bg-amber-950" : undefined}>
                <th scope="row" className="font-medium">
                  {HOST_FIELD_LABELS[row.field]}
                  {row.differs ? <span className="sr-only"> (differs)</span> : null}
                </th>
                <td>
                  <Value value={row.stored} highlight={row.differs} />
                </td>
                <td>
                  <Value value={row.yours} highlight={row.differs} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
