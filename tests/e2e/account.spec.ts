import type { APIRequestContext, Page } from "@playwright/test";
import { currentTotpCode } from "../../server/auth/primitives/totp";
import { expect, test } from "./fixtures";
import { adminAccessToken, signIn } from "./helpers";

/*
 * Each test makes its own user. Users are created through the API with ONE admin access
 * token per worker (not createUserViaApi, which signs the admin in on every call): every
 * sign-in counts against the per-IP login limit (30 per 15 minutes), which the whole e2e
 * run shares.
 */
let adminToken: string | null = null;

async function newUser(request: APIRequestContext, role: "operator" | "auditor" | "viewer") {
  const email = `account-${role}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@e2e.test`;
  const password = `pw-${role}-correct-horse`;
  for (let attempt = 0; ; attempt++) {
    adminToken ??= await adminAccessToken(request);
    const res = await request.post("/api/trpc/users.create", {
      data: { email, role, password },
      headers: { authorization: `Bearer ${adminToken}` },
    });
    if (res.status() === 401 && attempt === 0) {
      adminToken = null; // the cached access token expired: sign in once more
      continue;
    }
    expect(res.status()).toBe(200);
    return { email, password };
  }
}

async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
}

test("A user changes their password and signs in with the new one", async ({ page, request }) => {
  const user = await newUser(request, "operator");
  await signIn(page, user, "/account");
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();

  // A wrong current password is refused, and said so in the password section.
  const newPassword = `new-pw-${Date.now()}-battery-staple`;
  await page.getByLabel("Current password").fill("not-my-password-at-all");
  await page.getByLabel("New password").fill(newPassword);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.locator("#password").getByRole("alert")).toHaveText("The current password is not correct.");

  await page.getByLabel("Current password").fill(user.password);
  await page.getByLabel("New password").fill(newPassword);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("status")).toContainText("Your password was changed");
  await expect(page.getByLabel("New password")).toHaveValue("");

  await signOut(page);
  await signIn(page, { email: user.email, password: newPassword }, "/account");
  await expect(page.getByRole("navigation", { name: "Main" })).toContainText(user.email);
});

test("A user enrols in two-factor sign-in, then signs in through the TOTP step", async ({ page, request }) => {
  const user = await newUser(request, "viewer");
  await signIn(page, user, "/account");
  const mfa = page.locator("#mfa");
  await mfa.getByRole("button", { name: "Set up" }).click();
  await expect(mfa.getByRole("img", { name: "QR code" })).toBeVisible();
  const secret = (await page.getByTestId("totp-secret").textContent())?.trim() ?? "";
  expect(secret).toMatch(/^[A-Z2-7]{16,}$/);

  // A pending enrolment survives a reload: same secret, same QR code.
  await page.goto("/account");
  await expect(page.getByTestId("totp-secret")).toHaveText(secret);

  // A wrong code is refused beside the form.
  const wrongCode = currentTotpCode(secret) === "000000" ? "111111" : "000000";
  await page.getByLabel("Code from the app").fill(wrongCode);
  await page.getByRole("button", { name: "Confirm and turn on" }).click();
  await expect(mfa.getByRole("alert")).toContainText("That code does not match");

  await page.getByLabel("Code from the app").fill(currentTotpCode(secret));
  await page.getByRole("button", { name: "Confirm and turn on" }).click();
  const codes = page.getByTestId("recovery-codes").getByRole("listitem");
  await expect(codes).toHaveCount(10);
  const recoveryCodes = await codes.allTextContents();
  expect(recoveryCodes[0]).toMatch(/^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/);
  await expect(mfa).toContainText("On.");

  // Shown once: a fresh load has neither the codes nor the secret.
  await page.goto("/account");
  await expect(page.getByTestId("recovery-codes")).toHaveCount(0);
  await expect(page.getByTestId("totp-secret")).toHaveCount(0);
  await expect(page.content()).resolves.not.toContain(recoveryCodes[0]);

  // Sign in again: password, then a code. The enrolment code's step is burnt, so use the next step's.
  await signOut(page);
  await page.goto("/login?redirectTo=%2Faccount");
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByLabel("Code")).toBeVisible();
  await page.getByLabel("Code").fill(currentTotpCode(secret, new Date(Date.now() + 30_000)));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole("navigation", { name: "Main" })).toContainText(user.email);

  // Turning it off needs a second factor: a recovery code works once.
  await page.getByLabel("Code to turn it off").fill(recoveryCodes[1]!);
  await page.getByRole("button", { name: "Turn off two-factor sign-in" }).click();
  await expect(page.getByRole("status")).toHaveText("Two-factor sign-in is off.");
  await expect(page.locator("#mfa").getByRole("button", { name: "Set up" })).toBeVisible();
});

test("An API token is shown once, works as a Bearer token, and is refused after revoking", async ({ page, request }) => {
  const user = await newUser(request, "auditor");
  await signIn(page, user, "/account");
  const name = `script-${Date.now()}`;
  await page.getByLabel("Token name").fill(name);
  await page.getByLabel("Expires in (days)").fill("30");
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.getByRole("status")).toContainText("Copy it now");
  const token = (await page.getByTestId("new-token").textContent())?.trim() ?? "";
  expect(token).toMatch(/^odt_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
  const prefix = token.split("_")[1]!;

  const row = page.getByRole("row").filter({ hasText: name });
  await expect(row).toContainText(`odt_${prefix}_…`);
  await expect(row).toContainText("active");

  const me = await request.get("/api/trpc/auth.me", { headers: { authorization: "Bearer " + token } });
  expect(me.status()).toBe(200);
  const body = (await me.json()) as { result: { data: { email: string; role: string } } };
  expect(body.result.data).toMatchObject({ email: user.email, role: "auditor" });

  // Never again: a fresh load lists the token by its prefix only.
  await page.goto("/account");
  await expect(page.getByTestId("new-token")).toHaveCount(0);
  await expect(page.content()).resolves.not.toContain(token);
  await expect(row.getByRole("cell").nth(4)).not.toHaveText("never"); // "last used" was recorded

  await row.getByRole("button", { name: `Revoke ${name}` }).click();
  await expect(page.getByRole("status")).toContainText("The token was revoked");
  await expect(row).toContainText("revoked");
  await expect(row.getByRole("button", { name: /Revoke/ })).toHaveCount(0);

  const refused = await request.get("/api/trpc/auth.me", { headers: { authorization: "Bearer " + token } });
  expect(refused.status()).toBe(401);
});
