import type { PageEvent } from "./audit-page.server";
import { auditDiffHtml } from "./audit-diff";
import { dateTimeHtml } from "./date-time";
import { html, type SafeHtml } from "../utils/html-string";

const OUTCOME_CLASS: Record<string, string> = {
  success: "text-emerald-700 dark:text-emerald-400",
  failure: "text-red-700 dark:text-red-400",
  denied: "text-amber-700 dark:text-amber-400",
};

const DASH = "—";

/**
 * The audit list as one HTML string, the same on the server and in the browser (ADR 028):
 * a page of 50 events is ~1,500 elements with their details, which React would otherwise
 * render and then hydrate one by one. Each event is a `<tbody>`: its summary row, and a
 * row with its details in a `<details>` (opens without JavaScript).
 */
export function auditTableHtml(events: readonly PageEvent[]): SafeHtml {
  return html`<thead><tr><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Outcome</th></tr></thead>${events.map(eventRowsHtml)}`;
}

function eventRowsHtml(event: PageEvent): SafeHtml {
  const actor = event.actorEmail ?? (event.actorId === null ? "system" : `user #${event.actorId}`);
  const target = event.targetType ? `${event.targetType}${event.targetId ? ` ${event.targetId}` : ""}` : DASH;
  const outcomeClass = OUTCOME_CLASS[event.outcome];
  return html`<tbody id="event-${event.id}" class="border-t border-slate-200 dark:border-slate-700" data-testid="audit-event"><tr><td>${dateTimeHtml(event.at)}</td><td class="break-all">${actor}</td><td class="font-mono text-xs" data-testid="audit-action">${event.action}</td><td class="break-all">${target}</td><td${outcomeClass ? html` class="${outcomeClass}"` : null}>${event.outcome}</td></tr><tr><td colspan="5" class="pt-0"><details><summary class="cursor-pointer text-xs text-slate-600 dark:text-slate-400">Details of event #${event.id}</summary><div class="mt-2 grid gap-3 lg:grid-cols-[2fr_1fr]">${auditDiffHtml(event.before, event.after)}<dl class="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-xs"><dt class="font-medium">Time</dt><dd class="font-mono">${event.at}</dd><dt class="font-medium">Outcome</dt><dd>${event.outcome}</dd><dt class="font-medium">Request id</dt><dd class="break-all font-mono">${event.requestId ?? DASH}</dd><dt class="font-medium">IP</dt><dd class="font-mono">${event.ip ?? DASH}</dd><dt class="font-medium">User agent</dt><dd class="break-all">${event.userAgent ?? DASH}</dd><dt class="font-medium">Hash</dt><dd class="font-mono" title="First characters of the event's chain hash; exports carry it whole">${event.hash}…</dd></dl></div></details></td></tr></tbody>`;
}
