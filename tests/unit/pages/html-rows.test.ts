import { createElement as h, type ReactNode } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, test } from "vitest";
import { auditTableHtml } from "../../../app/components/audit-event-rows";
import type { PageEvent } from "../../../app/components/audit-page.server";
import { formatDateTime } from "../../../app/components/date-time";
import { type HostListRow, hostListRowsHtml } from "../../../app/components/host-list-rows";
import { hostFilterParams } from "../../../app/components/host-utils";
import { escapeHtml, html, markupOf } from "../../../app/utils/html-string";

const HOSTILE = `<img src=x onerror="alert('x')">&amp;`;

describe("html`…`", () => {
  test("escapes every interpolated string for text and for quoted attributes", () => {
    const out = markupOf(html`<a title="${HOSTILE}">${HOSTILE}</a>`);
    expect(out).toBe(`<a title="&lt;img src=x onerror=&quot;alert(&#x27;x&#x27;)&quot;&gt;&amp;amp;">&lt;img src=x onerror=&quot;alert(&#x27;x&#x27;)&quot;&gt;&amp;amp;</a>`);
    expect(out).not.toContain("<img");
  });

  test("escapes as React does, so a string row and a React row are the same bytes", () => {
    expect(escapeHtml(HOSTILE)).toBe(renderToStaticMarkup(h("b", null, HOSTILE)).slice(3, -4));
  });

  test("nests fragments and arrays of fragments unescaped, and drops null, undefined and false", () => {
    const items = ["a<b", "c"].map((x) => html`<li>${x}</li>`);
    expect(markupOf(html`<ul>${items}</ul>${null}${undefined}${false}${0}`)).toBe("<ul><li>a&lt;b</li><li>c</li></ul>0");
  });

  test("a plain object or an array of strings cannot pass as markup", () => {
    const forged = { value: "<script>alert(1)</script>" } as unknown as string;
    const strings = ["<script>"] as unknown as string;
    expect(markupOf(html`${forged}|${strings}`)).not.toContain("<script>");
  });
});

/** The rows as the page rendered them with React elements before ADR 028: the reference. */
function reactRows(hosts: HostListRow[], filters: { q?: string; tags?: string[] }): string {
  const dash = (value: string | null) => value ?? "—";
  const rows: ReactNode[] = hosts.map((host) =>
    h(
      "tr",
      { key: host.id },
      h("td", null, h("a", { className: "link font-medium", href: `/hosts/${host.id}` }, host.hostname)),
      h("td", { className: "font-mono text-xs" }, dash(host.ip)),
      h("td", null, dash(host.environment)),
      h(
        "td",
        null,
        h(
          "ul",
          { className: "flex flex-wrap gap-1" },
          host.tags.map((tag) =>
            h(
              "li",
              { key: tag },
              h(
                "a",
                {
                  href: `/hosts?${hostFilterParams({ ...filters, tags: [tag] })}`,
                  className: "rounded bg-slate-100 px-1.5 py-0.5 text-xs hover:underline dark:bg-slate-700",
                  title: `Only hosts tagged ${tag}`,
                },
                tag,
              ),
            ),
          ),
        ),
      ),
      h("td", null, dash(host.os)),
      h("td", null, h("time", { dateTime: host.updatedAt, className: "whitespace-nowrap" }, formatDateTime(host.updatedAt))),
    ),
  );
  return renderToStaticMarkup(h("tbody", null, rows)).slice("<tbody>".length, -"</tbody>".length);
}

describe("the host list's rows as a string", () => {
  const hosts: HostListRow[] = [
    { id: 7, hostname: "db-1.example.com", ip: "10.0.0.7", environment: "prod", tags: ["team:payments", "db"], os: "Debian 12", updatedAt: "2026-12-01T10:20:30.000Z" },
    { id: 8, hostname: "web-2", ip: null, environment: null, tags: [], os: null, updatedAt: "2026-12-02T00:00:00.000Z" },
    { id: 9, hostname: HOSTILE, ip: "::1", environment: HOSTILE, tags: [HOSTILE, 'a"b&c'], os: HOSTILE, updatedAt: "2026-12-03T23:59:59.999Z" },
  ];

  test.each([
    ["no filters", {}],
    ["a search and a tag", { q: `x&y"<z>`, tags: ["old"] }],
  ])("are the markup React rendered for the same rows (%s)", (_name, filters) => {
    const reference = reactRows(hosts, filters).replaceAll(" dateTime=", " datetime=");
    expect(markupOf(hostListRowsHtml(hosts, filters))).toBe(reference);
  });

  test("hostile values stay text", () => {
    const out = markupOf(hostListRowsHtml(hosts, {}));
    expect(out).not.toContain("<img");
    expect(out).toContain("/hosts?tags=a%22b%26c");
  });
});

describe("the audit list's rows as a string", () => {
  const event = (overrides: Partial<PageEvent>): PageEvent => ({
    id: 41,
    at: "2026-12-05T08:09:10.123Z",
    actorId: 3,
    actorEmail: "ops@example.com",
    action: "HOST_UPDATED",
    targetType: "host",
    targetId: "7",
    before: { hostname: "a", port: 22 },
    after: { hostname: "b", port: 22 },
    ip: "10.1.2.3",
    userAgent: "curl/8",
    requestId: "req-1",
    outcome: "success",
    hash: "0123456789ab",
    ...overrides,
  });

  test("one <tbody> per event, with its summary, its details and the changed fields marked in text", () => {
    const out = markupOf(auditTableHtml([event({}), event({ id: 40, actorEmail: null, actorId: null, targetType: null, outcome: "denied", before: null, after: null })]));
    expect(out.match(/<tbody id="event-\d+"[^>]* data-testid="audit-event">/g)).toHaveLength(2);
    expect(out).toContain('<time datetime="2026-12-05T08:09:10.123Z" class="whitespace-nowrap">2026-12-05 08:09 UTC</time>');
    expect(out).toContain('<tr data-changed="true" class="bg-amber-100 dark:bg-amber-900/40"><th scope="row" class="font-mono font-medium">hostname<span');
    expect(out).toContain('<th scope="row" class="font-mono font-medium">port</th>');
    expect(out.match(/\(changed\)/g)).toHaveLength(1);
    expect(out).toContain('<td class="break-all">system</td>');
    expect(out).toContain('<td class="text-amber-700 dark:text-amber-400">denied</td>');
    expect(out).toContain("No before/after values recorded.");
    expect(out).toContain("Details of event #40");
  });

  test("hostile values from the log stay text", () => {
    const out = markupOf(
      auditTableHtml([event({ actorEmail: HOSTILE, userAgent: HOSTILE, targetId: HOSTILE, before: { [HOSTILE]: HOSTILE }, after: { [HOSTILE]: { nested: HOSTILE } } })]),
    );
    expect(out).not.toContain("<img");
    expect(out).toContain("&lt;img src=x onerror=&quot;alert(&#x27;x&#x27;)&quot;&gt;&amp;amp;");
  });
});
