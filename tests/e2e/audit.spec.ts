import { parse } from "csv-parse/sync";
import { expect, jsEnabled, test } from "./fixtures";
import { createHostViaApi, downloadedText, sharedAdminAccessToken, sharedUserOfRole, trpcMutation, uniqueHostname } from "./helpers";

/*
 * /audit as an auditor, with JavaScript on (js) and off (no-js): filter by action, open an
 * event's details, verify the chain, download a CSV export of exactly the filtered events.
 * The auditor signs in once per run (sharedUserOfRole): the login rate limit is shared.
 */
test("An auditor filters by action, reads an event's diff, verifies the chain and exports the filtered events", async ({
  browser,
  request,
  baseURL,
}, testInfo) => {
  // An event to look for: a host created, then its notes changed (a before/after diff).
  const token = await sharedAdminAccessToken(request);
  const host = await createHostViaApi(request, token, { hostname: uniqueHostname("audit"), notes: "before the change" });
  await trpcMutation(request, token, "hosts.update", { id: host.id, version: host.version, notes: "after the change" });

  const auditor = await sharedUserOfRole(request, browser, baseURL!, "auditor");
  const context = await browser.newContext({
    baseURL,
    storageState: auditor.storageState,
    javaScriptEnabled: jsEnabled(testInfo.project.name),
    acceptDownloads: true,
  });
  try {
    const page = await context.newPage();
    const response = await page.goto("/audit");
    expect(response?.status()).toBe(200);
    await expect(page.getByRole("heading", { name: "Audit log", level: 1 })).toBeVisible();

    // Filter by action: only HOST_UPDATED rows remain, ours among them; the URL carries the filter.
    await page.getByLabel("Action", { exact: true }).selectOption("HOST_UPDATED");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect(page).toHaveURL(/\/audit\?action=HOST_UPDATED$/);
    const rows = page.getByTestId("audit-event");
    await expect(rows.first()).toBeVisible();
    const actions = await rows.getByTestId("audit-action").allInnerTexts();
    expect(actions.length).toBeGreaterThan(0);
    expect(new Set(actions)).toEqual(new Set(["HOST_UPDATED"]));

    // The event's details: the diff marks the changed field, with both values; request facts shown.
    const ours = rows.filter({ has: page.getByRole("cell", { name: `host ${host.id}`, exact: true }) });
    await ours.getByText(/^Details of event #\d+$/).click();
    const diff = ours.getByTestId("audit-diff");
    await expect(diff).toBeVisible();
    const notes = diff.locator("tr[data-changed]").filter({ hasText: "notes" });
    await expect(notes).toContainText("(changed)");
    await expect(notes).toContainText("before the change");
    await expect(notes).toContainText("after the change");
    await expect(ours.getByText("Request id")).toBeVisible();
    await expect(ours.getByText("User agent")).toBeVisible();

    // Verify the chain (a form POST): the count of checked events, no break.
    await page.getByRole("button", { name: "Verify chain" }).click();
    await expect(page.getByTestId("verify-result")).toHaveText(/^Chain intact: [\d,]+ events checked, no break found\.$/);
    await expect(page).toHaveURL(/\/audit\?action=HOST_UPDATED$/);

    // Export: the link carries the filter; the file holds only HOST_UPDATED events, ours included.
    const exportLink = page.getByRole("link", { name: "Export CSV" });
    await expect(exportLink).toHaveAttribute("href", "/audit/export?action=HOST_UPDATED&format=csv");
    const file = await downloadedText(page, () => exportLink.click());
    expect(file.name).toMatch(/^audit-[\d-]+\.csv$/);
    const records = parse(file.text, { columns: true, record_delimiter: "\r\n" }) as Record<string, string>[];
    expect(records.length).toBeGreaterThanOrEqual(actions.length);
    expect(new Set(records.map((r) => r.action))).toEqual(new Set(["HOST_UPDATED"]));
    const exported = records.find((r) => r.target_type === "host" && r.target_id === String(host.id));
    expect(exported).toBeDefined();
    expect(JSON.parse(exported!.after!)).toMatchObject({ notes: "after the change" });
    expect(exported!.hash).toMatch(/^[0-9a-f]{64}$/);
  } finally {
    await context.close();
  }
});

test("An operator gets the 403 page on /audit and from the export", async ({ browser, request, baseURL }, testInfo) => {
  const operator = await sharedUserOfRole(request, browser, baseURL!, "operator");
  const context = await browser.newContext({
    baseURL,
    storageState: operator.storageState,
    javaScriptEnabled: jsEnabled(testInfo.project.name),
  });
  try {
    const page = await context.newPage();
    expect((await page.goto("/audit"))?.status()).toBe(403);
    expect((await page.request.get("/audit/export?format=csv")).status()).toBe(403);
  } finally {
    await context.close();
  }
});
