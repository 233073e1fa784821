import { Form, Link } from "@remix-run/react";

/**
 * The /audit filter form (a plain GET form: works without JavaScript) and the helpers that
 * turn filters into query strings for the pagination and export links. No server imports:
 * this module is part of the browser bundle.
 */
export type AuditPageFilters = {
  actor?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  from?: string;
  to?: string;
};

const KEYS = ["actor", "action", "targetType", "targetId", "from", "to"] as const;

/** The set filters as query parameters (same names as audit.list's input and the export's). */
export function auditFilterParams(filters: AuditPageFilters, extra: Record<string, string | undefined> = {}): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of KEYS) {
    const value = filters[key]?.trim();
    if (value) params.set(key, value);
  }
  for (const [key, value] of Object.entries(extra)) if (value) params.set(key, value);
  return params;
}

export function withQuery(path: string, params: URLSearchParams): string {
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}

/** A value a datetime-local input can show (it accepts no zone): UTC wall-clock time. */
function localInputValue(value: string | undefined): string {
  if (!value) return "";
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return value;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? "" : at.toISOString().slice(0, 19);
}

export function AuditFilterForm({ filters, actions }: { filters: AuditPageFilters; actions: readonly string[] }) {
  const known = filters.action ? actions.includes(filters.action) : true;
  return (
    <Form method="get" action="/audit" className="card grid gap-3 sm:grid-cols-2 lg:grid-cols-4" aria-label="Filter audit events">
      <div>
        <label className="label" htmlFor="audit-actor">
          Actor
        </label>
        <input
          className="input"
          id="audit-actor"
          name="actor"
          defaultValue={filters.actor ?? ""}
          placeholder="email or user id"
          maxLength={320}
        />
      </div>
      <div>
        <label className="label" htmlFor="audit-action">
          Action
        </label>
        <select className="input" id="audit-action" name="action" defaultValue={known ? (filters.action ?? "") : ""}>
          <option value="">Any action</option>
          {actions.map((action) => (
            <option key={action} value={action}>
              {action}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label className="label" htmlFor="audit-action-other">
          Other action
        </label>
        <input
          className="input"
          id="audit-action-other"
          name="actionOther"
          defaultValue={known ? "" : (filters.action ?? "")}
          placeholder="e.g. HOST_* (overrides the list)"
          maxLength={64}
        />
      </div>
      <div>
        <label className="label" htmlFor="audit-target-type">
          Target type
        </label>
        <input className="input" id="audit-target-type" name="targetType" defaultValue={filters.targetType ?? ""} maxLength={64} />
      </div>
      <div>
        <label className="label" htmlFor="audit-target-id">
          Target id
        </label>
        <input className="input" id="audit-target-id" name="targetId" defaultValue={filters.targetId ?? ""} maxLength={128} />
      </div>
      <div>
        <label className="label" htmlFor="audit-from">
          From (UTC)
        </label>
        <input className="input" id="audit-from" name="from" type="datetime-local" step={1} defaultValue={localInputValue(filters.from)} />
      </div>
      <div>
        <label className="label" htmlFor="audit-to">
          To (UTC)
        </label>
        <input className="input" id="audit-to" name="to" type="datetime-local" step={1} defaultValue={localInputValue(filters.to)} />
      </div>
      <div className="flex items-end gap-2">
        <button type="submit" className="btn btn-primary">
          Apply filters
        </button>
        <Link to="/audit" className="btn">
          Clear
        </Link>
      </div>
    </Form>
  );
}
