import type { APIRequestContext, Page } from "@playwright/test";
import { expect } from "./fixtures";

export const ADMIN = { email: "admin@e2e.test", password: "e2e-admin-password-123" };

/** Signs in through the /login form (works with JavaScript on or off). */
export async function signIn(page: Page, user: { email: string; password: string } = ADMIN, redirectTo = "/status") {
  await page.goto(`/login?redirectTo=${encodeURIComponent(redirectTo)}`);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(new RegExp(`${redirectTo.replace(/[?]/g, "\\?")}$`));
}

/** An access token for the admin through tRPC, as a script would get one. */
export async function adminAccessToken(request: APIRequestContext): Promise<string> {
  const res = await request.post("/api/trpc/auth.login", { data: ADMIN });
  const body = (await res.json()) as { result: { data: { accessToken: string } } };
  return body.result.data.accessToken;
}

/** Creates a user of a role through the API and returns its credentials. */
export async function createUserViaApi(
  request: APIRequestContext,
  role: "admin" | "operator" | "auditor" | "viewer",
): Promise<{ email: string; password: string; id: number }> {
  const token = await adminAccessToken(request);
  const email = `${role}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@e2e.test`;
  const password = `pw-${role}-correct-horse`;
  const res = await request.post("/api/trpc/users.create", {
    data: { email, role, password },
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await res.json()) as { result: { data: { user: { id: number } } } };
  return { email, password, id: body.result.data.user.id };
}
