import { Form, Link, useNavigation } from "@remix-run/react";
import { DateTime } from "./date-time";
import { CsrfField, FormAlert } from "./form-fields";

export type ImportRunData = {
  id: string;
  fileName: string | null;
  appliedAt: string | null;
  created: number;
  updated: number;
  unchanged: number;
  totalRows: number;
  errorCount: number;
  errors: { line: number; column: string | null; message: string }[];
  /** The first rows only (the page stays small). */
  preview: { line: number; hostname: string; action: string; changedFields: string[] }[];
};

const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

/** A stored import run: counts, what each row does, every error, and the apply step. */
export function HostImportResult({
  run,
  csrfToken,
  applyError,
  justApplied,
}: {
  run: ImportRunData;
  csrfToken: string | null;
  applyError?: string | null;
  justApplied: boolean;
}) {
  const applying = useNavigation().formData?.get("intent") === "apply";
  const changes = run.created + run.updated;
  const applied = run.appliedAt !== null;
  const counts: { key: string; label: string; value: number }[] = [
    { key: "create", label: applied ? "Created" : "Create", value: run.created },
    { key: "update", label: applied ? "Updated" : "Update", value: run.updated },
    { key: "unchanged", label: "Unchanged", value: run.unchanged },
    { key: "errors", label: "Errors", value: run.errorCount },
  ];
  return (
    <section className="card mb-6" aria-labelledby="import-result-heading">
      <h2 id="import-result-heading" className="mb-1 text-lg font-semibold">
        {applied ? "Import applied" : "Dry run result"}
      </h2>
      <p className="mb-3 text-sm text-slate-600 dark:text-slate-400">
        {run.fileName ? (
          <>
            File <span className="font-mono">{run.fileName}</span>,{" "}
          </>
        ) : (
          "Pasted text, "
        )}
        {plural(run.totalRows, "valid row")}.
        {applied ? (
          <>
            {" "}
            Applied <DateTime value={run.appliedAt} />.
          </>
        ) : null}
      </p>

      {/* How the last apply ended when it wrote nothing (refused, errors found, interrupted). */}
      <FormAlert message={applyError} />

      {applied ? (
        <p role="status" className="alert-ok mb-3">
          {justApplied ? "The import was applied: " : "This import was applied: "}
          {plural(run.created, "host")} created, {plural(run.updated, "host")} updated, {run.unchanged} unchanged.{" "}
          <Link to="/hosts" className="link font-medium">
            Go to the host list
          </Link>
        </p>
      ) : null}

      <dl className="mb-4 grid grid-cols-2 gap-2 sm:grid-cols-4">
        {counts.map((count) => (
          <div key={count.key} className="rounded border border-slate-200 p-2 dark:border-slate-700">
            <dt className="text-xs uppercase tracking-wide text-slate-600 dark:text-slate-400">{count.label}</dt>
            <dd
              className={`text-2xl font-bold ${count.key === "errors" && count.value > 0 ? "text-red-700 dark:text-red-400" : ""}`}
              data-testid={`count-${count.key}`}
            >
              {count.value}
            </dd>
          </div>
        ))}
      </dl>

      {run.errorCount > 0 ? (
        <div className="alert-error mb-4">
          <p>
            The file has {plural(run.errorCount, "error")}. Nothing will be written until the file is fixed: an import is
            applied whole or not at all. Correct the lines listed below, then run the dry run again with the fixed file.
          </p>
          <p className="mt-2">
            <a className="link font-medium" href={`/hosts/import/${run.id}/errors.csv`} download>
              Download error report (CSV)
            </a>
          </p>
        </div>
      ) : !applied ? (
        changes > 0 ? (
          <Form method="post" className="mb-4" replace>
            <CsrfField token={csrfToken} />
            <input type="hidden" name="intent" value="apply" />
            <input type="hidden" name="runId" value={run.id} />
            <p className="mb-2 text-sm">
              No errors. Applying writes {plural(run.created, "new host")} and {plural(run.updated, "update")} in one
              transaction; the run is kept for 24 hours.
            </p>
            <button type="submit" className="btn btn-primary" disabled={applying}>
              {applying ? "Applying…" : `Apply ${plural(changes, "change")}`}
            </button>
          </Form>
        ) : (
          <p className="alert-ok mb-4">Every row matches the hosts as they are: there is nothing to apply.</p>
        )
      ) : null}

      {run.preview.length > 0 ? (
        <div className="mb-4 overflow-x-auto">
          <table className="table" aria-label="Preview">
            <caption className="mb-1 text-left text-sm font-semibold">
              {applied ? "What happened" : "What will happen"}
              {run.totalRows > run.preview.length ? ` (first ${run.preview.length} of ${run.totalRows} rows)` : ""}
            </caption>
            <thead>
              <tr>
                <th scope="col">Line</th>
                <th scope="col">Hostname</th>
                <th scope="col">Action</th>
                <th scope="col">Changed fields</th>
              </tr>
            </thead>
            <tbody>
              {run.preview.map((row) => (
                <tr key={row.line}>
                  <td className="tabular-nums">{row.line}</td>
                  <td className="font-mono">{row.hostname}</td>
                  <td>{row.action}</td>
                  <td className="font-mono">{row.changedFields.join(", ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}

      {run.errors.length > 0 ? (
        <div className="overflow-x-auto">
          <table className="table" aria-label="Errors">
            <caption className="mb-1 text-left text-sm font-semibold">
              Errors
              {run.errorCount > run.errors.length ? ` (first ${run.errors.length} of ${run.errorCount})` : ""}
            </caption>
            <thead>
              <tr>
                <th scope="col">Line</th>
                <th scope="col">Column</th>
                <th scope="col">Message</th>
              </tr>
            </thead>
            <tbody>
              {run.errors.map((error, index) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: errors have no id; the list never reorders
                <tr key={index}>
                  <td className="tabular-nums">{error.line}</td>
                  <td className="font-mono">{error.column ?? "—"}</td>
                  <td>{error.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
