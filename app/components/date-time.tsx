import { html, type SafeHtml } from "../utils/html-string";

/**
 * A timestamp as `2025-01-31 14:05 UTC`: formatted the same way on the server and in the
 * browser (no locale or time zone of either), so hydration never disagrees.
 */
export function formatDateTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** The same `<time>` as <DateTime>, for rows built as HTML strings (ADR 028). */
export function dateTimeHtml(iso: string): SafeHtml {
  return html`<time datetime="${iso}" class="whitespace-nowrap">${formatDateTime(iso)}</time>`;
}

export function DateTime({ value, empty = "—" }: { value: string | null | undefined; empty?: string }) {
  if (!value) return <span className="text-slate-500 dark:text-slate-400">{empty}</span>;
  return (
    <time dateTime={value} className="whitespace-nowrap">
      {formatDateTime(value)}
    </time>
  );
}
