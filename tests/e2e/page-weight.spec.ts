import { gzipSync } from "node:zlib";
import { expect, test } from "./fixtures";
import { createHostViaApi, pageAccessToken, signIn, uniqueHostname } from "./helpers";

/**
 * Ops links are slow: every page's first load must stay within these gzip budgets.
 * Every page is listed; a new page must be added here.
 */
const BUDGET = { jsGzip: 130 * 1024, htmlCssGzip: 20 * 1024 };
/** Pages under one host: a host is created for the measurement (no id is known in advance). */
const HOST_PAGES = ["/hosts/:hostId", "/hosts/:hostId/edit", "/hosts/:hostId/delete"];
const PUBLIC_PAGES = ["/status", "/login"];
/** Pages behind sign-in are measured as the admin sees them. */
const SIGNED_IN_PAGES = ["/account", "/users", "/settings", "/hosts", "/hosts/new", "/hosts/import", "/audit", ...HOST_PAGES];
const PAGES = [...PUBLIC_PAGES, ...SIGNED_IN_PAGES];
const SIGNED_IN = new Set(SIGNED_IN_PAGES);

for (const path of PAGES) {
  test(`The first load of ${path} stays within the page-weight budget`, async ({ page }, testInfo) => {
    test.skip(testInfo.project.name !== "js", "measured once, with JavaScript (the heavier case)");
    if (SIGNED_IN.has(path)) await signIn(page);
    const urls: { url: string; type: string }[] = [];
    page.on("response", (res) => {
      urls.push({ url: res.url(), type: res.request().resourceType() });
    });
    if (path.includes(":hostId")) {
      const host = await createHostViaApi(page.request, await pageAccessToken(page), {
        hostname: uniqueHostname("weight"),
        ip: "10.0.0.10",
        bastion: "jump.e2e.test",
        tags: ["web", "eu-west"],
        notes: "Measured by the page-weight test.",
      });
      await page.goto(path.replace(":hostId", String(host.id)));
    } else {
      await page.goto(path);
    }
    await page.waitForLoadState("networkidle");
    let js = 0;
    let htmlCss = 0;
    for (const { url, type } of urls) {
      if (!url.startsWith(testInfo.project.use.baseURL ?? "")) continue;
      // page.request shares the page's cookies: signed-in pages are measured as shown.
      const body = await (await page.request.get(url)).body();
      const size = gzipSync(body, { level: 6 }).length;
      if (type === "script" || url.endsWith(".js")) js += size;
      else if (type === "document" || type === "stylesheet") htmlCss += size;
    }
    console.log(`${path}: JS ${(js / 1024).toFixed(1)} KB gzip, HTML+CSS ${(htmlCss / 1024).toFixed(1)} KB gzip`);
    expect(js).toBeGreaterThan(0);
    expect(js).toBeLessThanOrEqual(BUDGET.jsGzip);
    expect(htmlCss).toBeLessThanOrEqual(BUDGET.htmlCssGzip);
  });
}
