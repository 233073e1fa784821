import { expect, test } from "./fixtures";
import { ADMIN, signIn } from "./helpers";

test("An admin signs in with the form and returns to the page they asked for", async ({ page }) => {
  await page.goto("/users");
  await expect(page).toHaveURL(/\/login\?redirectTo=%2Fusers$/);
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/users$/);
  await expect(page.getByRole("navigation", { name: "Main" })).toContainText(ADMIN.email);
});

test("A wrong password shows one generic message and no session", async ({ page, context }) => {
  await page.goto("/login");
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Email or password is incorrect, or the account is disabled.");
  const cookies = await context.cookies();
  expect(cookies.filter((c) => c.name.includes("opsdesk_at") && c.value)).toEqual([]);
});

test("Signing out ends the session", async ({ page }) => {
  await signIn(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/account");
  await expect(page).toHaveURL(/\/login\?redirectTo=%2Faccount$/);
});
