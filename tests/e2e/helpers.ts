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
  // With JavaScript the URL changes before React has swapped the login page out: until
  // then its own "Email" field would take the next fill meant for the new page. Wait for
  // its heading, not its button: while submitting the button reads "Signing in…", so a
  // wait on the button passed early and a fill landed in the login form (users.spec flake).
  await expect(page.getByRole("heading", { name: "Sign in", exact: true, level: 1 })).toHaveCount(0);
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

/** A CSV file for `page.setInputFiles`, lines joined with LF. */
export function csvFile(name: string, lines: string[]): { name: string; mimeType: string; buffer: Buffer } {
  return { name, mimeType: "text/csv", buffer: Buffer.from(`${lines.join("\n")}\n`, "utf8") };
}

/** An access token for any user, through tRPC `auth.login` (counts against the login limit). */
export async function accessTokenFor(request: APIRequestContext, user: { email: string; password: string }): Promise<string> {
  const res = await request.post("/api/trpc/auth.login", { data: { email: user.email, password: user.password } });
  const body = (await res.json()) as { result: { data: { accessToken: string } } };
  return body.result.data.accessToken;
}

// ---- Shared sessions and host helpers (hosts pages) -------------------------------------

import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser } from "@playwright/test";

/*
 * Every sign-in counts against the per-IP login limit (30 per 15 minutes) that the whole
 * e2e run shares. These helpers sign a user in once per run and share the result between
 * tests and between the js/no-js projects through files in the run's own data directory
 * (E2E_DATA_DIR, set by playwright.config.ts). A saved session is used only while its
 * access cookie is still fresh (lifetime 10 minutes): no refresh-token rotation ever
 * happens on a shared copy, so reuse detection never revokes it.
 */
const SHARED_MAX_AGE_MS = 7 * 60 * 1000;

function sharedFile(name: string): string {
  const dir = path.join(process.env.E2E_DATA_DIR || tmpdir(), "e2e-shared");
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

function freshFile(file: string): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs < SHARED_MAX_AGE_MS;
  } catch {
    return false;
  }
}

/** A storage state file holding a signed-in session of `user` (signed in at most once per 7 minutes). */
export async function sharedStorageState(
  browser: Browser,
  baseURL: string,
  user: { email: string; password: string } = ADMIN,
  name = "admin",
): Promise<string> {
  const file = sharedFile(`state-${name}.json`);
  if (freshFile(file)) return file;
  // Explicitly empty: inside a test, newContext() would otherwise inherit the test's storageState.
  const context = await browser.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  try {
    await signIn(await context.newPage(), user);
    await context.storageState({ path: file });
  } finally {
    await context.close();
  }
  return file;
}

/** An admin access token for Bearer calls, from `adminAccessToken`, shared like the sessions above. */
export async function sharedAdminAccessToken(request: APIRequestContext): Promise<string> {
  const file = sharedFile("admin-access-token");
  if (freshFile(file)) return readFileSync(file, "utf8");
  const token = await adminAccessToken(request);
  writeFileSync(file, token);
  return token;
}

/** A viewer created once per run through the API, with a shared signed-in storage state. */
export async function sharedViewer(
  request: APIRequestContext,
  browser: Browser,
  baseURL: string,
): Promise<{ email: string; password: string; storageState: string }> {
  const file = sharedFile("viewer.json");
  let viewer: { email: string; password: string };
  try {
    viewer = JSON.parse(readFileSync(file, "utf8")) as { email: string; password: string };
  } catch {
    const token = await sharedAdminAccessToken(request);
    viewer = { email: `viewer-${Date.now()}-${Math.floor(Math.random() * 1e6)}@e2e.test`, password: "pw-viewer-correct-horse" };
    const res = await request.post("/api/trpc/users.create", {
      data: { ...viewer, role: "viewer" },
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status()).toBe(200);
    writeFileSync(file, JSON.stringify(viewer));
  }
  return { ...viewer, storageState: await sharedStorageState(browser, baseURL, viewer, "viewer") };
}

export type E2eHost = { id: number; hostname: string; version: number; [field: string]: unknown };

/** Calls a tRPC mutation with a Bearer token and returns its data (fails the test on an error). */
export async function trpcMutation<T>(request: APIRequestContext, token: string, procedure: string, input: unknown): Promise<T> {
  const res = await request.post(`/api/trpc/${procedure}`, {
    data: input,
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await res.json()) as { result?: { data: T }; error?: unknown };
  expect(res.status(), `${procedure}: ${JSON.stringify(body.error ?? null)}`).toBe(200);
  return body.result!.data;
}

/** Creates a host through the API (fields as in hosts.create). */
export async function createHostViaApi(
  request: APIRequestContext,
  token: string,
  fields: { hostname: string } & Record<string, unknown>,
): Promise<E2eHost> {
  return trpcMutation<E2eHost>(request, token, "hosts.create", fields);
}

/** A unique, valid hostname for one test: `<prefix>-<time>-<random>.e2e.test`. */
export function uniqueHostname(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}.e2e.test`;
}

// ---- Settings page helpers -----------------------------------------------------------------

/**
 * A user of `role` created once per run through the API (admin Bearer token), with a shared
 * signed-in storage state: like `sharedViewer`, for any role.
 */
export async function sharedUserOfRole(
  request: APIRequestContext,
  browser: Browser,
  baseURL: string,
  role: "operator" | "auditor" | "viewer",
): Promise<{ email: string; password: string; storageState: string }> {
  if (role === "viewer") return sharedViewer(request, browser, baseURL);
  const file = sharedFile(`${role}.json`);
  let user: { email: string; password: string };
  try {
    user = JSON.parse(readFileSync(file, "utf8")) as { email: string; password: string };
  } catch {
    const token = await sharedAdminAccessToken(request);
    user = { email: `${role}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@e2e.test`, password: `pw-${role}-correct-horse` };
    await trpcMutation(request, token, "users.create", { ...user, role });
    writeFileSync(file, JSON.stringify(user));
  }
  return { ...user, storageState: await sharedStorageState(browser, baseURL, user, role) };
}

/** Sets settings through the API as the admin (e.g. to restore defaults after a test). */
export async function updateSettingsViaApi(request: APIRequestContext, patch: Record<string, unknown>): Promise<void> {
  await trpcMutation(request, await sharedAdminAccessToken(request), "settings.update", patch);
}

/** The signed-in page's own access token (its session cookie), usable as a Bearer token without another sign-in. */
export async function pageAccessToken(page: Page): Promise<string> {
  const cookie = (await page.context().cookies()).find((c) => c.name.endsWith("opsdesk_at") && c.value);
  if (!cookie) throw new Error("the page is not signed in");
  return cookie.value;
}

// ---- Audit page helpers ---------------------------------------------------------------------

/** Clicks what starts a download (a link with `download`) and returns the file's name and text. */
export async function downloadedText(page: Page, click: () => Promise<void>): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent("download"), click()]);
  const file = await download.path();
  return { name: download.suggestedFilename(), text: readFileSync(file, "utf8") };
}

// ---- Host page panels (metrics, artifacts) ------------------------------------------------

/** Uploads a file to a host's artifacts as a script would (Bearer token); returns the 201 JSON. */
export async function uploadArtifactViaApi(
  request: APIRequestContext,
  token: string,
  hostId: number,
  file: { name: string; mimeType: string; buffer: Buffer },
): Promise<{ id: string; originalName: string; sizeBytes: number; sha256: string }> {
  const res = await request.post(`/artifacts/${hostId}/artifacts`, {
    multipart: { file },
    headers: { authorization: `Bearer ${token}`, accept: "application/json" },
  });
  const body = (await res.json()) as { id: string; originalName: string; sizeBytes: number; sha256: string };
  expect(res.status(), JSON.stringify(body)).toBe(201);
  return body;
}

/** Waits until React has taken over a form marked `data-enhanced` once hydrated (JS project only). */
export async function waitForEnhanced(page: Page, testId: string): Promise<void> {
  await expect(page.locator(`[data-testid="${testId}"][data-enhanced]`)).toHaveCount(1, { timeout: 15_000 });
}

// ---- Audit events through the API (to check that a page's action was recorded) ---------------

export type E2eAuditEvent = { id: number; action: string; actorEmail: string | null; targetType: string | null; targetId: string | null };

/** audit.list through tRPC (GET) with a Bearer token: the newest events matching `filters`. */
export async function auditEventsViaApi(
  request: APIRequestContext,
  token: string,
  filters: { action?: string; targetType?: string; targetId?: string; actor?: string },
): Promise<E2eAuditEvent[]> {
  const input = encodeURIComponent(JSON.stringify({ ...filters, limit: 100 }));
  const res = await request.get(`/api/trpc/audit.list?input=${input}`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { result?: { data: { items: E2eAuditEvent[] } }; error?: unknown };
  expect(res.status(), `audit.list: ${JSON.stringify(body.error ?? null)}`).toBe(200);
  return body.result!.data.items;
}
