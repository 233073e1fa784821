import type { Locator, Page } from "@playwright/test";
import { generateSync } from "otplib";
import { expect, test } from "./fixtures";
import { ADMIN, accessTokenFor, sharedAdminAccessToken, signIn, trpcMutation } from "./helpers";

/*
 * Every sign-in counts against the per-IP login limit (30 per 15 minutes) shared by the
 * whole e2e run, so these tests sign in only where the flow needs it: users are created
 * through the /users form by the signed-in admin.
 */
const uniqueEmail = (tag: string) => `users-${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@e2e.test`;

/** The user's row, following "Next page" links: the list is oldest first, 50 a page. */
async function userRow(page: Page, email: string): Promise<Locator> {
  await page.goto("/users");
  for (;;) {
    const row = page.getByRole("row").filter({ hasText: email });
    if ((await row.count()) > 0) return row;
    const next = page.getByRole("link", { name: "Next page" });
    if ((await next.count()) === 0) throw new Error(`${email} is not in the user list`);
    await next.click();
    await expect(page).toHaveURL(/[?&]cursor=/);
  }
}

async function createUserWithForm(page: Page, email: string, role: string, password = "") {
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Role", { exact: true }).selectOption(role);
  await page.getByLabel("Password (optional)").fill(password);
  await page.getByRole("button", { name: "Create user" }).click();
}

async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
}

test("An admin creates a viewer with a generated password; the viewer signs in and gets 403 on /users", async ({ page }) => {
  await signIn(page, ADMIN, "/users");
  await expect(page.getByRole("heading", { name: "Users", exact: true })).toBeVisible();
  const email = uniqueEmail("viewer");
  await createUserWithForm(page, email, "viewer");
  await expect(page.getByRole("status")).toContainText("it will not be shown again");
  const temporaryPassword = (await page.getByTestId("temporary-password").textContent())?.trim() ?? "";
  expect(temporaryPassword.length).toBeGreaterThanOrEqual(16);

  const row = await userRow(page, email);
  await expect(row.getByRole("cell").nth(1).getByRole("combobox")).toHaveValue("viewer");
  await expect(row.getByRole("cell").nth(2)).toHaveText("active");
  await expect(row.getByRole("cell").nth(3)).toHaveText("off");
  await expect(page.getByTestId("temporary-password")).toHaveCount(0); // shown once only

  await signOut(page);
  await signIn(page, { email, password: temporaryPassword }, "/status");
  await expect(page.getByRole("navigation", { name: "Main" })).toContainText(`${email} (viewer)`);
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users" })).toHaveCount(0);

  const response = await page.goto("/users");
  expect(response?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: /403/ })).toBeVisible();
  await expect(page.getByText("Your role (viewer) cannot open this page.")).toBeVisible();
});

test("An admin changes a user's role and disables them; the disabled user cannot sign in", async ({ page }) => {
  await signIn(page, ADMIN, "/users");
  const email = uniqueEmail("operator");
  const password = "pw-operator-correct-horse";
  await createUserWithForm(page, email, "operator", password);
  await expect(page.getByRole("status")).toHaveText(/User created/);

  // A procedure's refusal is shown in an alert: the email is taken now.
  await createUserWithForm(page, email, "viewer");
  await expect(page.getByRole("alert")).toHaveText(`A user with the email ${email} already exists.`);

  let row = await userRow(page, email);
  await row.getByLabel(`Role of ${email}`, { exact: true }).selectOption("auditor");
  await row.getByRole("button", { name: `Save role of ${email}` }).click();
  await expect(page.getByRole("status")).toContainText("Role changed");
  row = page.getByRole("row").filter({ hasText: email });
  await expect(row.getByLabel(`Role of ${email}`, { exact: true })).toHaveValue("auditor");

  await row.getByRole("button", { name: `Disable ${email}` }).click();
  await expect(page.getByRole("status")).toContainText("User disabled");
  await expect(row.getByRole("cell").nth(2)).toHaveText("disabled");
  await expect(row.getByRole("button", { name: `Enable ${email}` })).toBeVisible();

  await signOut(page);
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Email or password is incorrect, or the account is disabled.");
  await expect(page).toHaveURL(/\/login/);
});

test("An admin resets a user's two-factor sign-in; the user then signs in with the password alone", async ({ page, request }) => {
  // The user turns MFA on through the API (as a script would), with a code from otplib.
  const email = uniqueEmail("mfa-reset");
  const password = "pw-mfa-reset-correct-horse";
  const adminToken = await sharedAdminAccessToken(request);
  await trpcMutation(request, adminToken, "users.create", { email, role: "operator", password });
  const userToken = await accessTokenFor(request, { email, password });
  const { secret } = await trpcMutation<{ secret: string }>(request, userToken, "account.mfa.begin", {});
  await trpcMutation(request, userToken, "account.mfa.confirm", { code: generateSync({ secret }) });
  const login = await request.post("/api/trpc/auth.login", { data: { email, password } });
  expect(((await login.json()) as { result: { data: { status: string } } }).result.data.status).toBe("mfa_required");

  await signIn(page, ADMIN, "/users");
  let row = await userRow(page, email);
  await expect(row.getByRole("cell").nth(3)).toHaveText("on");
  await row.getByRole("button", { name: `Reset MFA of ${email}` }).click();
  await expect(page.getByRole("status")).toContainText("Two-factor sign-in was reset");
  row = await userRow(page, email);
  await expect(row.getByRole("cell").nth(3)).toHaveText("off");
  await expect(row.getByRole("button", { name: `Reset MFA of ${email}` })).toHaveCount(0);

  await signOut(page);
  await signIn(page, { email, password }, "/account");
  await expect(page.getByRole("navigation", { name: "Main" })).toContainText(`${email} (operator)`);
  await expect(page.locator("#mfa")).toContainText("Off.");
});
