import { dateTimeHtml } from "./date-time";
import { type HostListFilters, hostFilterParams } from "./host-utils";
import { html, type SafeHtml } from "../utils/html-string";

export type HostListRow = {
  id: number;
  hostname: string;
  ip: string | null;
  environment: string | null;
  tags: string[];
  os: string | null;
  updatedAt: string;
};

const TAG_CLASS = "rounded bg-slate-100 px-1.5 py-0.5 text-xs hover:underline dark:bg-slate-700";

/**
 * The host list's rows as one HTML string, the same on the server and in the browser, so
 * hydration adopts the server's rows without rendering 50 rows of React elements (ADR 028).
 * Each tag links to the list filtered by that tag alone, keeping the other filters.
 */
export function hostListRowsHtml(hosts: readonly HostListRow[], filters: HostListFilters): SafeHtml {
  const tagLink = (tag: string) =>
    html`<li><a href="/hosts?${hostFilterParams({ ...filters, tags: [tag] }).toString()}" class="${TAG_CLASS}" title="Only hosts tagged ${tag}">${tag}</a></li>`;
  return html`${hosts.map(
    (host) =>
      html`<tr><td><a class="link font-medium" href="/hosts/${host.id}">${host.hostname}</a></td><td class="font-mono text-xs">${host.ip ?? "—"}</td><td>${host.environment ?? "—"}</td><td><ul class="flex flex-wrap gap-1">${host.tags.map(tagLink)}</ul></td><td>${host.os ?? "—"}</td><td>${dateTimeHtml(host.updatedAt)}</td></tr>`,
  )}`;
}
