import { html, type SafeHtml } from "../utils/html-string";

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

const MUTED = "text-slate-500 dark:text-slate-400";

function valueHtml(value: unknown, present: boolean): SafeHtml {
  if (!present) return html`<span class="${MUTED}">—</span>`;
  if (value === null) return html`<span class="${MUTED}">null</span>`;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return html`<code class="whitespace-pre-wrap break-all font-mono text-xs">${text}</code>`;
}

/** The diff as an HTML string (it is part of the audit list's rows, ADR 028). */
export function auditDiffHtml(before: unknown, after: unknown): SafeHtml {
  if (before === null && after === null) return html`<p class="text-sm ${MUTED}">No before/after values recorded.</p>`;
  const rows = diffRows(before, after).map(
    (row) =>
      html`<tr${row.changed ? html` data-changed="true" class="bg-amber-100 dark:bg-amber-900/40"` : null}><th scope="row" class="font-mono font-medium">${row.field}${row.changed ? html`<span class="ml-1 text-amber-800 dark:text-amber-300">(changed)</span>` : null}</th><td>${valueHtml(row.before, row.inBefore)}</td><td>${valueHtml(row.after, row.inAfter)}</td></tr>`,
  );
  return html`<table class="table text-xs" data-testid="audit-diff"><thead><tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr></thead><tbody>${rows}</tbody></table>`;
}
