/**
 * An audit event's before/after as a small table: one row per field, changed fields
 * highlighted (and marked in text, not by colour alone). Nested values are compact JSON.
 */
type Row = { field: string; before: unknown; after: unknown; inBefore: boolean; inAfter: boolean; changed: boolean };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function diffRows(before: unknown, after: unknown): Row[] {
  if ((before === null || isRecord(before)) && (after === null || isRecord(after))) {
    const b = before ?? {};
    const a = after ?? {};
    const fields = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
    return fields.map((field) => {
      const inBefore = Object.hasOwn(b, field);
      const inAfter = Object.hasOwn(a, field);
      return {
        field,
        before: b[field],
        after: a[field],
        inBefore,
        inAfter,
        // With nothing before (a creation, a read) every field is new: not highlighted as a change.
        changed: before !== null && after !== null && (inBefore !== inAfter || !same(b[field], a[field])),
      };
    });
  }
  // A value that is not an object (a list, a string…): shown whole.
  return [{ field: "(value)", before, after, inBefore: before !== null, inAfter: after !== null, changed: !same(before, after) }];
}

function Value({ value, present }: { value: unknown; present: boolean }) {
  if (!present) return <span className="text-slate-500 dark:text-slate-400">—</span>;
  if (value === null) return <span className="text-slate-500 dark:text-slate-400">null</span>;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return <code className="whitespace-pre-wrap break-all font-mono text-xs">{text}</code>;
}

export function AuditDiff({ before, after }: { before: unknown; after: unknown }) {
  if (before === null && after === null) return <p className="text-sm text-slate-500 dark:text-slate-400">No before/after values recorded.</p>;
  const rows = diffRows(before, after);
  return (
    <table className="table text-xs" data-testid="audit-diff">
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Before</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.field} data-changed={row.changed || undefined} className={row.changed ? "bg-amber-100 dark:bg-amber-900/40" : ""}>
            <th scope="row" className="font-mono font-medium">
              {row.field}
              {row.changed ? <span className="ml-1 text-amber-800 dark:text-amber-300">(changed)</span> : null}
            </th>
            <td>
              <Value value={row.before} present={row.inBefore} />
            </td>
            <td>
              <Value value={row.after} present={row.inAfter} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
