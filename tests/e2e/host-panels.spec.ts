import { createHash } from "node:crypto";
import type { Page } from "@playwright/test";
import { HEALTHY_NODE_RESULTS, startPrometheusStub } from "../support/prometheus-stub";
import { expect, jsEnabled, test } from "./fixtures";
import {
  ADMIN,
  createHostViaApi,
  downloadedText,
  sharedAdminAccessToken,
  sharedStorageState,
  sharedViewer,
  uniqueHostname,
  updateSettingsViaApi,
  uploadArtifactViaApi,
  waitForEnhanced,
} from "./helpers";

/*
 * The host page's metrics and artifacts panels, with JavaScript on (js) and off (no-js).
 * The admin's session is shared (sharedStorageState): every sign-in counts against the
 * login limit the whole run shares. Prometheus is a stub started inside this process on
 * 127.0.0.1; the prometheus.url setting is restored to "" whatever happens.
 */
test.use({
  storageState: async ({ browser, baseURL }, use) => {
    await use(await sharedStorageState(browser, baseURL!));
  },
});

const stamp = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;

type Marked = { sameDocument?: boolean };

/** With JavaScript: marks the document, so a later check can tell that no full page load happened. */
async function markDocument(page: Page) {
  await page.evaluate(() => {
    (window as unknown as Marked).sameDocument = true;
  });
}

async function expectSameDocument(page: Page) {
  expect(await page.evaluate(() => (window as unknown as Marked).sameDocument)).toBe(true);
}

test("Update metrics says when Prometheus is not configured, then shows gauges from Prometheus", async ({ page, request }, testInfo) => {
  const js = jsEnabled(testInfo.project.name);
  const token = await sharedAdminAccessToken(request);
  await updateSettingsViaApi(request, { "prometheus.url": "" });
  const host = await createHostViaApi(request, token, { hostname: uniqueHostname("metrics"), ip: "10.1.2.3" });

  await page.goto(`/hosts/${host.id}`);
  const panel = page.locator('[data-panel="metrics"]');
  await expect(panel.getByText("No current metrics.")).toBeVisible();
  if (js) {
    await waitForEnhanced(page, "metrics-update-form");
    await markDocument(page);
  }
  await panel.getByRole("button", { name: "Update metrics" }).click();
  await expect(panel.getByRole("alert")).toContainText("Prometheus is not configured — an admin can set it in Settings");
  if (js) {
    expect(page.url()).not.toContain("metrics=");
    await expectSameDocument(page);
  } else {
    await expect(page).toHaveURL(new RegExp(`/hosts/${host.id}\\?metrics=not_configured$`));
  }
  // The page still renders around the message.
  await expect(page.getByRole("heading", { name: host.hostname, level: 1 })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Artifacts" })).toBeVisible();
  await expect(panel.getByText("No current metrics.")).toBeVisible();

  const stub = await startPrometheusStub({ kind: "results", results: HEALTHY_NODE_RESULTS });
  try {
    await updateSettingsViaApi(request, { "prometheus.url": stub.url });
    await panel.getByRole("button", { name: "Update metrics" }).click();
    await expect(panel.getByTestId("metrics-notice")).toHaveText("Metrics updated.");
    await expect(panel.getByTestId("metrics-updated")).toContainText(`Last updated by ${ADMIN.email} at`);
    await expect(panel.getByTestId("metrics-updated")).toContainText(/\((just now|\d+ seconds? ago)\)/);
    for (const label of ["CPU", "Memory", "Disk"]) {
      await expect(panel.getByRole("img", { name: new RegExp(`^${label}: \\d`) })).toBeVisible();
    }
    await expect(panel.getByTestId("cpu-sparkline").locator("svg")).toBeVisible();
    await expect(panel.getByText("Load 1 / 5 / 15")).toBeVisible();
    await expect(panel.getByText("No current metrics.")).toHaveCount(0);
    if (js) await expectSameDocument(page);
    else await expect(page).toHaveURL(new RegExp(`/hosts/${host.id}\\?metrics=updated$`));
    expect(stub.requests.some((r) => r.path === "/api/v1/query")).toBe(true);

    // A reload renders the same snapshot on the server, without the one-shot message.
    await page.goto(`/hosts/${host.id}`);
    await expect(panel.getByTestId("metrics-updated")).toContainText(`Last updated by ${ADMIN.email}`);
    await expect(panel.getByTestId("metrics-notice")).toHaveCount(0);
  } finally {
    await updateSettingsViaApi(request, { "prometheus.url": "" });
    await stub.close();
  }
});

test("An artifact is uploaded, listed, downloaded and deleted", async ({ page, request }, testInfo) => {
  const js = jsEnabled(testInfo.project.name);
  const token = await sharedAdminAccessToken(request);
  const host = await createHostViaApi(request, token, { hostname: uniqueHostname("artifacts") });
  const name = `notes-${stamp()}.txt`;
  const buffer = Buffer.from(`hello from ${name}\n`.repeat(40), "utf8");
  const sha = createHash("sha256").update(buffer).digest("hex");

  await page.goto(`/hosts/${host.id}`);
  const panel = page.locator("#artifacts");
  await expect(panel.getByText("No artifacts for this host yet.")).toBeVisible();
  if (js) {
    await waitForEnhanced(page, "artifact-upload");
    await markDocument(page);
  }
  await panel.getByLabel("Upload a file").setInputFiles({ name, mimeType: "text/plain", buffer });
  await panel.getByRole("button", { name: "Upload", exact: true }).click();
  if (js) {
    await expect(panel.getByTestId("artifact-notice")).toHaveText(`Uploaded ${name} (${(buffer.length / 1024).toFixed(1)} KB).`);
    await expectSameDocument(page);
  } else {
    await expect(page).toHaveURL(new RegExp(`/hosts/${host.id}\\?artifact=uploaded#artifacts$`));
    await expect(panel.getByTestId("artifact-notice")).toHaveText("Uploaded.");
  }

  const row = panel.getByRole("row").filter({ hasText: name });
  await expect(row).toHaveCount(1);
  await expect(panel.getByTestId("artifact-total")).toHaveText("1 artifact");
  await expect(row.getByTestId("artifact-sha")).toHaveAttribute("title", sha);
  await expect(row.getByTestId("artifact-sha")).toHaveAttribute("data-short", sha.slice(0, 12));
  await expect(row).toContainText(ADMIN.email);
  await expect(row).toContainText(`${(buffer.length / 1024).toFixed(1)} KB`);
  if (js) await expect(row.getByRole("button", { name: `Copy SHA-256 ${sha.slice(0, 12)}` })).toBeVisible();

  // Download: the bytes are the uploaded ones.
  const link = row.getByRole("link", { name: `Download ${name}` });
  const href = await link.getAttribute("href");
  const res = await page.request.get(href!);
  expect(res.status()).toBe(200);
  expect(Buffer.compare(await res.body(), buffer)).toBe(0);
  const downloaded = await downloadedText(page, () => link.click());
  expect(downloaded.name).toBe(name);
  expect(downloaded.text).toBe(buffer.toString("utf8"));

  // Delete needs a second, confirming click.
  await row.getByText("Delete…").click();
  await row.getByRole("button", { name: `Delete ${name} for good` }).click();
  await expect(panel.getByRole("status").filter({ hasText: `Deleted ${name}.` })).toBeVisible();
  await expect(panel.getByRole("row").filter({ hasText: name })).toHaveCount(0);
  await expect(panel.getByText("No artifacts for this host yet.")).toBeVisible();
  expect((await page.request.get(href!)).status()).toBe(404);
});

test("The artifact list pages with a cursor link that keeps the page URL", async ({ page, request }) => {
  const token = await sharedAdminAccessToken(request);
  const host = await createHostViaApi(request, token, { hostname: uniqueHostname("artifact-pages") });
  for (let i = 0; i < 21; i++) {
    await uploadArtifactViaApi(request, token, host.id, {
      name: `page-${String(i).padStart(2, "0")}.log`,
      mimeType: "text/plain",
      buffer: Buffer.from(`line ${i}\n`),
    });
  }
  await page.goto(`/hosts/${host.id}`);
  const panel = page.locator("#artifacts");
  await expect(panel.getByTestId("artifact-total")).toHaveText("21 artifacts");
  const rows = panel.getByRole("table", { name: "Artifacts" }).locator("tbody tr");
  await expect(rows).toHaveCount(20);
  await expect(rows.first()).toContainText("page-20.log");
  await panel.getByRole("link", { name: "Older artifacts →" }).click();
  await expect(page).toHaveURL(new RegExp(`/hosts/${host.id}\\?artifactsCursor=[A-Za-z0-9_-]+#artifacts$`));
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("page-00.log");
  await panel.getByRole("link", { name: "← First page" }).click();
  await expect(rows).toHaveCount(20);

  // A cursor that cannot be read shows the first page with a message, not an error page.
  const res = await page.goto(`/hosts/${host.id}?artifactsCursor=garbage`);
  expect(res?.status()).toBe(200);
  await expect(panel.getByRole("alert")).toContainText("start from the first page");
  await expect(rows).toHaveCount(20);
});

test("A viewer sees metrics and the artifact list, but no Update, Upload, Delete or download", async ({
  browser,
  request,
  baseURL,
}, testInfo) => {
  const token = await sharedAdminAccessToken(request);
  const host = await createHostViaApi(request, token, { hostname: uniqueHostname("viewer-panels") });
  const name = `viewer-${stamp()}.txt`;
  const artifact = await uploadArtifactViaApi(request, token, host.id, { name, mimeType: "text/plain", buffer: Buffer.from("secret-ish\n") });
  const viewer = await sharedViewer(request, browser, baseURL!);
  const context = await browser.newContext({
    baseURL,
    storageState: viewer.storageState,
    javaScriptEnabled: jsEnabled(testInfo.project.name),
  });
  try {
    const page = await context.newPage();
    await page.goto(`/hosts/${host.id}`);
    await expect(page.getByRole("heading", { name: "Metrics" })).toBeVisible();
    await expect(page.locator('[data-panel="metrics"]').getByText("No current metrics.")).toBeVisible();
    await expect(page.getByRole("row").filter({ hasText: name })).toHaveCount(1);
    await expect(page.getByRole("button", { name: "Update metrics" })).toHaveCount(0);
    await expect(page.getByLabel("Upload a file")).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Upload" })).toHaveCount(0);
    await expect(page.getByText("Delete…")).toHaveCount(0);
    await expect(page.locator('a[href*="/download"]')).toHaveCount(0);
    // The server refuses too.
    expect((await page.request.get(`/artifacts/${artifact.id}/download`)).status()).toBe(403);
  } finally {
    await context.close();
  }
});
