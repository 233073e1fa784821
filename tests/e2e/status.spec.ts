import { expect, jsEnabled, test } from "./fixtures";

test("The status page shows the version and a healthy database, server-rendered", async ({ page }) => {
  await page.goto("/status");
  await expect(page.getByRole("heading", { name: "System status" })).toBeVisible();
  await expect(page.getByTestId("database")).toContainText("ok");
  await expect(page.getByTestId("version")).toHaveText(/^\d+\.\d+\.\d+/);
});

test("The status widget refreshes through tRPC with JavaScript, and by reload without", async ({ page }, testInfo) => {
  await page.goto("/status");
  const before = await page.getByTestId("server-time").textContent();
  await page.waitForTimeout(50);
  const trpcCall = jsEnabled(testInfo.project.name)
    ? page.waitForResponse((res) => res.url().includes("/api/trpc/system.info"))
    : page.waitForURL("**/status");
  await page.getByRole("link", { name: "Refresh" }).click();
  const response = await trpcCall;
  if (jsEnabled(testInfo.project.name) && response && typeof response === "object" && "status" in response) {
    expect(response.status()).toBe(200);
  }
  await expect(page.getByTestId("server-time")).not.toHaveText(before ?? "");
});

test("An unknown address shows a readable 404 page", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: /404/ })).toBeVisible();
  await expect(page.getByRole("link", { name: "Go to the start page" })).toBeVisible();
});

test("No page violates the Content-Security-Policy", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" && /Content Security Policy/i.test(msg.text())) violations.push(msg.text());
  });
  await page.goto("/status");
  await page.waitForLoadState("networkidle");
  expect(violations).toEqual([]);
});
