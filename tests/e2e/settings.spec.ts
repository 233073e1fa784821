import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "@playwright/test";
import { expect, jsEnabled, test } from "./fixtures";
import { sharedStorageState, sharedUserOfRole, updateSettingsViaApi } from "./helpers";

/*
 * /settings, with JavaScript on (js) and off (no-js). Settings are shared by every test of
 * the run (one server, one database): a test that saves puts the defaults back, also when
 * it fails (finally, through the API). Tests run as the admin through the shared sign-in.
 */
test.use({
  storageState: async ({ browser, baseURL }, use) => {
    await use(await sharedStorageState(browser, baseURL!));
  },
});

const DEFAULTS = { "prometheus.timeoutMs": 5_000, "metrics.snapshotTtlSeconds": 86_400 };

const timeout = (page: Page) => page.getByLabel("Query timeout (seconds)", { exact: true });
const ttl = (page: Page) => page.getByLabel("Snapshot TTL (hours)", { exact: true });
const prometheusUrl = (page: Page) => page.getByLabel("Prometheus URL", { exact: true });

/** Clicks a submit button and waits for the server's answer to the POST (with or without JavaScript). */
async function submit(page: Page, button: "Save" | "Test connection") {
  const answered = page.waitForResponse(
    (r) => r.request().method() === "POST" && new URL(r.url()).pathname.startsWith("/settings"),
  );
  await page.getByRole("button", { name: button, exact: true }).click();
  await answered;
}

async function openSettings(page: Page) {
  const response = await page.goto("/settings");
  expect(response?.status()).toBe(200);
  await expect(page.getByRole("heading", { name: "Settings", level: 1 })).toBeVisible();
}

test("An admin changes the query timeout and TTL; the saved values are shown after a reload", async ({ page, request }) => {
  try {
    await openSettings(page);
    await expect(page.getByRole("heading", { name: "Prometheus" })).toBeVisible();
    await expect(page.getByRole("heading", { name: "Metrics endpoint" })).toBeVisible();
    await expect(page.getByText("is the host's IP address when one is set, else its hostname")).toBeVisible();
    await expect(page.getByTestId("metrics-token-state")).toHaveText("not set");

    await timeout(page).fill("7.5");
    await ttl(page).fill("48");
    await submit(page, "Save");
    await expect(page).toHaveURL(/\/settings\?saved=1$/);
    await expect(page.getByRole("status")).toHaveText("Settings saved");

    await page.reload();
    await expect(timeout(page)).toHaveValue("7.5");
    await expect(ttl(page)).toHaveValue("48");

    // A metrics token is shown as "set", never as its value; clearing it works.
    const token = `e2e-metrics-token-${Date.now()}`;
    await page.getByLabel("Set a token", { exact: true }).fill(token);
    await submit(page, "Save");
    await expect(page.getByRole("status")).toHaveText("Settings saved");
    await expect(page.getByTestId("metrics-token-state")).toHaveText("set");
    expect(await page.content()).not.toContain(token);
    const metrics = await request.get("/metrics", { headers: { authorization: "Bearer wrong" } });
    expect(metrics.status()).toBe(401);
    await page.getByLabel(/Clear the token/).check();
    await submit(page, "Save");
    await expect(page.getByRole("status")).toHaveText("Settings saved");
    await expect(page.getByTestId("metrics-token-state")).toHaveText("not set");

    // Back to the defaults, with the form.
    await timeout(page).fill("5");
    await ttl(page).fill("24");
    await submit(page, "Save");
    await expect(page.getByRole("status")).toHaveText("Settings saved");
    await page.reload();
    await expect(timeout(page)).toHaveValue("5");
    await expect(ttl(page)).toHaveValue("24");
  } finally {
    await updateSettingsViaApi(request, { ...DEFAULTS, "metrics.endpointToken": "" });
  }
});

test("An invalid timeout shows a field error, keeps the typed values and saves nothing", async ({ page, request }) => {
  try {
    await openSettings(page);
    const savedTimeout = await timeout(page).inputValue();
    const savedTtl = await ttl(page).inputValue();

    await ttl(page).fill("12");
    await timeout(page).fill("0");
    // Enter in a field saves, like the Save button.
    const answered = page.waitForResponse((r) => r.request().method() === "POST");
    await timeout(page).press("Enter");
    await answered;
    await expect(page.locator("#prometheus-timeoutMs-error")).toHaveText("Enter a number from 0.1 to 60 seconds.");
    await expect(page.getByRole("alert")).toHaveText("Check the highlighted fields.");
    await expect(timeout(page)).toHaveValue("0");
    await expect(ttl(page)).toHaveValue("12");
    await expect(page.locator("#metrics-snapshotTtlSeconds-error")).toHaveCount(0);

    // Nothing was saved: not even the valid TTL.
    await openSettings(page);
    await expect(timeout(page)).toHaveValue(savedTimeout);
    await expect(ttl(page)).toHaveValue(savedTtl);
  } finally {
    await updateSettingsViaApi(request, DEFAULTS);
  }
});

test("Test connection uses the typed URL, shows the plain error, keeps the form and saves nothing", async ({ page }) => {
  await openSettings(page);
  const savedUrl = await prometheusUrl(page).inputValue();
  const savedTimeout = await timeout(page).inputValue();

  await prometheusUrl(page).fill("http://127.0.0.1:9");
  await timeout(page).fill("3");
  await submit(page, "Test connection");
  const alert = page.getByRole("alert");
  // Port 9 is one fetch() refuses to connect to at all ("bad port"): the message is the generic one.
  await expect(alert).toContainText("Could not reach Prometheus at http://127.0.0.1:9:");
  await expect(alert).toContainText("Check the Prometheus URL and that Prometheus is running.");
  await expect(prometheusUrl(page)).toHaveValue("http://127.0.0.1:9");
  await expect(timeout(page)).toHaveValue("3");

  await openSettings(page);
  await expect(prometheusUrl(page)).toHaveValue(savedUrl);
  await expect(timeout(page)).toHaveValue(savedTimeout);
});

test("Test connection reports the version and time of a Prometheus that answers", async ({ page }) => {
  // A stand-in for Prometheus: its build info endpoint only.
  const prometheus = createServer((req, res) => {
    const found = req.url?.startsWith("/api/v1/status/buildinfo");
    res.writeHead(found ? 200 : 404, { "content-type": "application/json" });
    res.end(JSON.stringify(found ? { status: "success", data: { version: "2.53.1" } } : { status: "error" }));
  });
  await new Promise<void>((resolve) => prometheus.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = prometheus.address() as AddressInfo;
    await openSettings(page);
    await prometheusUrl(page).fill(`http://127.0.0.1:${port}`);
    await submit(page, "Test connection");
    await expect(page.getByRole("status")).toHaveText(/^Connected to Prometheus 2\.53\.1 in \d+ ms$/);
    await expect(prometheusUrl(page)).toHaveValue(`http://127.0.0.1:${port}`);
  } finally {
    await new Promise((resolve) => prometheus.close(resolve));
  }
});

test("An operator gets the 403 page on /settings", async ({ browser, baseURL, request }, testInfo) => {
  const operator = await sharedUserOfRole(request, browser, baseURL!, "operator");
  const context = await browser.newContext({
    baseURL,
    storageState: operator.storageState,
    javaScriptEnabled: jsEnabled(testInfo.project.name),
  });
  try {
    const page = await context.newPage();
    const response = await page.goto("/settings");
    expect(response?.status()).toBe(403);
    await expect(page.getByRole("heading", { name: /403/ })).toBeVisible();
    await expect(page.getByText("Your role (operator) cannot open this page.")).toBeVisible();
    await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" })).toHaveCount(0);
  } finally {
    await context.close();
  }
});
