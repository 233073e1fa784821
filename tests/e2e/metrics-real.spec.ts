import { type RealPrometheus, realPrometheusMissing, startRealPrometheus } from "../support/real-prometheus";
import { expect, jsEnabled, test } from "./fixtures";
import {
  ADMIN,
  auditEventsViaApi,
  createHostViaApi,
  sharedAdminAccessToken,
  sharedStorageState,
  uniqueHostname,
  updateSettingsViaApi,
  waitForEnhanced,
} from "./helpers";

/*
 * Update metrics on the host page against a real Prometheus scraping a real node_exporter
 * (tests/support/real-prometheus.ts), both started by this file on loopback ports; the e2e
 * server reaches them through the prometheus.url setting, put back to "" whatever happens.
 * With JavaScript off this is the plain form post to /hosts/:id/metrics:update.
 */
const missing = realPrometheusMissing();

test.use({
  storageState: async ({ browser, baseURL }, use) => {
    await use(await sharedStorageState(browser, baseURL!));
  },
});

let prometheus: RealPrometheus | null = null;

test.beforeAll(async () => {
  if (missing) return;
  test.setTimeout(60_000);
  prometheus = await startRealPrometheus();
});

test.afterAll(async () => {
  await prometheus?.stop();
  prometheus = null;
});

test("Update metrics shows real node_exporter values from a real Prometheus, and the update is audited", async ({ page, request }, testInfo) => {
  test.skip(missing !== null, `real Prometheus e2e skipped: ${missing}`);
  const js = jsEnabled(testInfo.project.name);
  const token = await sharedAdminAccessToken(request);
  const host = await createHostViaApi(request, token, {
    hostname: uniqueHostname("metrics-real"),
    ip: "127.0.0.1",
    prometheusInstance: prometheus!.instance,
  });
  try {
    await updateSettingsViaApi(request, { "prometheus.url": prometheus!.url });
    await page.goto(`/hosts/${host.id}`);
    const panel = page.locator('[data-panel="metrics"]');
    await expect(panel.getByText("No current metrics.")).toBeVisible();
    if (js) await waitForEnhanced(page, "metrics-update-form");

    await panel.getByRole("button", { name: "Update metrics" }).click();
    await expect(panel.getByTestId("metrics-notice")).toHaveText("Metrics updated.");
    if (!js) await expect(page).toHaveURL(new RegExp(`/hosts/${host.id}\\?metrics=updated$`));
    await expect(panel.getByTestId("metrics-updated")).toContainText(`Last updated by ${ADMIN.email}`);
    // Real values: percentages 0–100 in the gauges' names, and every text value present.
    for (const label of ["CPU", "Memory", "Disk"]) {
      const gauge = panel.getByRole("img", { name: new RegExp(`^${label}: \\d`) });
      await expect(gauge).toBeVisible();
      const value = Number(/: (\d+(?:\.\d+)?)/.exec((await gauge.locator("title").textContent()) ?? "")?.[1]);
      expect(value, `${label} %`).toBeGreaterThanOrEqual(0);
      expect(value, `${label} %`).toBeLessThanOrEqual(100);
    }
    await expect(panel.getByText("Partial data")).toHaveCount(0);
    await expect(panel.getByText("Load 1 / 5 / 15")).toBeVisible();

    // Rendered by the server from the stored snapshot on a fresh load, too.
    await page.goto(`/hosts/${host.id}`);
    await expect(panel.getByRole("img", { name: /^Memory: \d/ })).toBeVisible();
    await expect(panel.getByTestId("metrics-notice")).toHaveCount(0);

    const events = await auditEventsViaApi(request, token, { action: "METRICS_UPDATED", targetType: "host", targetId: String(host.id) });
    expect(events.map((e) => e.actorEmail)).toEqual([ADMIN.email]);
  } finally {
    await updateSettingsViaApi(request, { "prometheus.url": "" });
  }
});
