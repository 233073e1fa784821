import { gzipSync } from "node:zlib";
import type { Response } from "@playwright/test";
import { expect, test } from "./fixtures";
import { type FleetRole, fleet, fleetStorageState } from "./fleet";

/**
 * Ops links are slow: every page's first load must stay within these gzip budgets (issue
 * 16), measured on the realistic fleet (project `fleet`: 10,000 hosts, 100 artifacts and a
 * metrics history on the measured host, 100,000 audit events). Every page is listed; a new
 * page must be added here. Each page is measured as the admin (who sees the most on every
 * page) and as the other roles on the pages that differ by role.
 */
const BUDGET = { jsGzip: 120 * 1024, htmlCssGzip: 30 * 1024 };

type Measured = { path: string; roles: FleetRole[] };
const HOST = ":hostId"; // the fleet host with the artifacts and metrics
const PAGES: Measured[] = [
  { path: "/login", roles: [] },
  { path: "/status", roles: [] },
  { path: "/", roles: ["admin"] }, // the dashboard: redirects to /status
  { path: "/hosts", roles: ["admin", "viewer"] },
  { path: `/hosts/${HOST}`, roles: ["admin", "operator", "auditor", "viewer"] },
  { path: `/hosts/${HOST}/edit`, roles: ["admin"] },
  { path: `/hosts/${HOST}/delete`, roles: ["admin"] },
  { path: "/hosts/new", roles: ["admin"] },
  { path: "/hosts/import", roles: ["admin"] },
  { path: "/audit", roles: ["admin", "auditor"] },
  { path: "/users", roles: ["admin"] },
  { path: "/settings", roles: ["admin"] },
  { path: "/account", roles: ["admin", "viewer"] }, // API tokens and MFA live here
];

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

for (const { path, roles } of PAGES) {
  for (const role of roles.length ? roles : [null]) {
    const who = role ? `as ${role}` : "signed out";
    test(`The first load of ${path} ${who} stays within the page-weight budget`, async ({ browser }) => {
      const facts = fleet();
      const context = await browser.newContext({
        baseURL: facts.baseURL,
        storageState: role ? await fleetStorageState(browser, role) : { cookies: [], origins: [] },
      });
      try {
        const page = await context.newPage();
        const bodies: Promise<{ kind: "js" | "htmlCss" | "other"; url: string; gzip: number }>[] = [];
        page.on("response", (res) => {
          if (res.url().startsWith(facts.baseURL)) bodies.push(measure(res));
        });
        // A page made lighter must still work: a refused inline style (CSP) or a failed
        // hydration shows up here.
        const problems: string[] = [];
        page.on("console", (message) => {
          if (message.type() === "error") problems.push(message.text());
        });
        page.on("pageerror", (error) => problems.push(error.message));
        const response = await page.goto(path.replace(HOST, String(facts.artifactHostId)));
        expect(response?.status(), "the page itself loads").toBe(200);
        await page.waitForLoadState("networkidle");
        const parts = await Promise.all(bodies);
        const js = parts.filter((p) => p.kind === "js").reduce((sum, p) => sum + p.gzip, 0);
        const htmlCss = parts.filter((p) => p.kind === "htmlCss").reduce((sum, p) => sum + p.gzip, 0);
        const html = parts.find((p) => p.kind === "htmlCss" && !p.url.endsWith(".css"))?.gzip ?? 0;
        console.log(
          `${path} ${who}: JS ${kb(js)} gzip (${parts.filter((p) => p.kind === "js").length} files), HTML+CSS ${kb(htmlCss)} gzip (HTML ${kb(html)})`,
        );
        expect(problems, "console errors while the page loaded").toEqual([]);
        expect(await page.evaluate(() => "__remixRouter" in window), "the page hydrated").toBe(true);
        expect(js).toBeGreaterThan(0);
        expect(js).toBeLessThanOrEqual(BUDGET.jsGzip);
        expect(htmlCss).toBeLessThanOrEqual(BUDGET.htmlCssGzip);
      } finally {
        await context.close();
      }
    });
  }
}

/** A response's body as gzip (level 6) would send it; a redirect's empty body counts as nothing. */
async function measure(res: Response) {
  const type = res.request().resourceType();
  const url = res.url();
  const kind = type === "script" || url.endsWith(".js") ? "js" : type === "document" || type === "stylesheet" ? "htmlCss" : "other";
  if (res.status() >= 300 && res.status() < 400) return { kind: "other" as const, url, gzip: 0 };
  return { kind, url, gzip: gzipSync(await res.body(), { level: 6 }).length } as const;
}
