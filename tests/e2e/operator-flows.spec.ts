import { createHash } from "node:crypto";
import type { Browser, Page } from "@playwright/test";
import { currentTotpCode } from "../../server/auth/primitives/totp";
import { DEFAULT_SSH_TEMPLATE } from "../../server/domain/hosts/ssh-command";
import { HEALTHY_NODE_RESULTS, startPrometheusStub } from "../support/prometheus-stub";
import { expect, jsEnabled, test } from "./fixtures";
import {
  ADMIN,
  accessTokenFor,
  auditEventsViaApi,
  createHostViaApi,
  downloadedText,
  sharedAdminAccessToken,
  sharedStorageState,
  sharedUserOfRole,
  trpcMutation,
  uniqueHostname,
  updateSettingsViaApi,
  waitForEnhanced,
} from "./helpers";

/*
 * The flows an operator walks, with JavaScript on (js) and off (no-js), where the other
 * specs leave a gap: the TOTP sign-in step's refusals and recovery codes, sign-out ending
 * the session on the server, the host flows as the operator role (not the admin) with
 * their audit rows, a failed metrics update and a refused upload through the plain form
 * posts, the audit log's actor/target/date filters, paging and JSONL export, re-enabling a
 * user, and the default SSH template from settings. Every outcome is checked where it
 * lands: the page, the downloaded bytes, the audit log. Settings changed here are put back
 * in `finally`, since one server serves the whole run.
 */

/** server/services/metrics/metrics.service.ts: a refresh newer than this is returned again. */
const METRICS_COOLDOWN_MS = 3_000;

const stamp = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const uniqueEmail = (tag: string) => `flows-${tag}-${stamp()}@e2e.test`;

/** A browser context signed in as the shared user of `role`, with the project's JavaScript setting. */
async function contextAs(
  browser: Browser,
  request: Parameters<typeof sharedUserOfRole>[0],
  baseURL: string,
  role: "operator" | "auditor",
  js: boolean,
) {
  const user = await sharedUserOfRole(request, browser, baseURL, role);
  const context = await browser.newContext({ baseURL, storageState: user.storageState, javaScriptEnabled: js, acceptDownloads: true });
  return { user, context, page: await context.newPage() };
}

async function submitPassword(page: Page, user: { email: string; password: string }) {
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByLabel("Code")).toBeVisible();
}

async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
}

test("Two-factor sign-in refuses a wrong code, starts over, takes a recovery code once, and signing out ends the session on the server", async ({
  page,
  context,
  request,
}) => {
  // An operator with two-factor sign-in on, set up through the API as a script would.
  const user = { email: uniqueEmail("mfa"), password: "pw-flows-mfa-correct-horse" };
  await trpcMutation(request, await sharedAdminAccessToken(request), "users.create", { ...user, role: "operator" });
  const userToken = await accessTokenFor(request, user);
  const { secret } = await trpcMutation<{ secret: string }>(request, userToken, "account.mfa.begin", {});
  const { recoveryCodes } = await trpcMutation<{ recoveryCodes: string[] }>(request, userToken, "account.mfa.confirm", {
    code: currentTotpCode(secret),
  });

  await page.goto("/login?redirectTo=%2Fhosts");
  await submitPassword(page, user);
  // The password alone is no session.
  expect((await context.cookies()).filter((c) => c.name.endsWith("opsdesk_at") && c.value)).toEqual([]);

  // A wrong code is refused on the same step.
  const wrong = currentTotpCode(secret) === "000000" ? "111111" : "000000";
  await page.getByLabel("Code").fill(wrong);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("alert")).toHaveText("That code is not valid.");
  await expect(page.getByLabel("Code")).toBeVisible();

  // Start over: back to email and password, the redirect kept.
  await page.getByRole("button", { name: "Start over" }).click();
  await expect(page).toHaveURL(/\/login\?redirectTo=%2Fhosts$/);
  await expect(page.getByLabel("Email")).toBeVisible();

  // A recovery code signs in and lands on the page asked for.
  await submitPassword(page, user);
  await page.getByLabel("Code").fill(recoveryCodes[0]!);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/hosts$/);
  await expect(page.getByRole("navigation", { name: "Main" })).toContainText(`${user.email} (operator)`);
  const session = (await context.cookies()).filter((c) => /opsdesk_(at|rt)$/.test(c.name));
  expect(session.map((c) => c.name.replace(/^.*opsdesk_/, "")).sort()).toEqual(["at", "rt"]);

  // Signing out revokes the session itself: its old cookies, put back, are refused.
  await signOut(page);
  await context.addCookies(session);
  await page.goto("/hosts");
  await expect(page).toHaveURL(/\/login\?redirectTo=%2Fhosts$/);

  // The used recovery code is refused the second time; a code from the app works.
  await submitPassword(page, user);
  await page.getByLabel("Code").fill(recoveryCodes[0]!);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("alert")).toHaveText("That code is not valid.");
  // The enrolment used this step's code: the next step's is the one the app shows next.
  await page.getByLabel("Code").fill(currentTotpCode(secret, new Date(Date.now() + 30_000)));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/hosts$/);

  // The audit log tells the story, newest first (the oldest sign-in is the API's, above).
  const events = await auditEventsViaApi(request, await sharedAdminAccessToken(request), { actor: user.email });
  const story = events.map((e) => e.action).filter((a) => ["LOGIN_SUCCEEDED", "MFA_FAILED", "LOGOUT"].includes(a));
  expect(story).toEqual(["LOGIN_SUCCEEDED", "MFA_FAILED", "LOGOUT", "LOGIN_SUCCEEDED", "MFA_FAILED", "LOGIN_SUCCEEDED"]);
});

test("An operator adds, edits over a conflict and deletes a host with the forms; each change is audited as theirs", async ({
  browser,
  request,
  baseURL,
}, testInfo) => {
  const { user, context, page } = await contextAs(browser, request, baseURL!, "operator", jsEnabled(testInfo.project.name));
  try {
    const hostname = uniqueHostname("op-crud");
    await page.goto("/hosts");
    await page.getByRole("link", { name: "Add host" }).click();
    await page.getByLabel("Hostname", { exact: true }).fill(hostname);
    await page.getByLabel("IP address", { exact: true }).fill("10.44.0.1");
    await page.getByLabel("Environment", { exact: true }).fill("staging");
    await page.getByRole("button", { name: "Create host" }).click();
    await expect(page).toHaveURL(/\/hosts\/\d+$/);
    const id = Number(new URL(page.url()).pathname.split("/").pop());
    await expect(page.getByRole("heading", { name: hostname, level: 1 })).toBeVisible();

    // The admin changes the host while the operator's form is open.
    await page.getByRole("link", { name: "Edit" }).click();
    await page.getByLabel("OS", { exact: true }).fill("Debian 12");
    await trpcMutation(request, await sharedAdminAccessToken(request), "hosts.update", { id, version: 1, notes: "admin was here" });
    await page.getByRole("button", { name: "Save" }).click();
    const panel = page.getByTestId("conflict-panel");
    await expect(panel.getByRole("alert")).toContainText("Someone changed");
    await expect(panel.getByRole("row", { name: /^Notes/ }).getByRole("cell")).toHaveText(["admin was here", "(empty)"]);
    // Saving again keeps the operator's OS and, from the form's new version, the admin's notes.
    await page.getByLabel("Notes", { exact: true }).fill("admin was here");
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page).toHaveURL(new RegExp(`/hosts/${id}$`));
    await expect(page.getByText("(version 3)")).toBeVisible();
    await expect(page.getByText("Debian 12")).toBeVisible();
    await expect(page.getByTestId("host-notes")).toHaveText("admin was here");

    await page.getByRole("link", { name: "Delete" }).click();
    await page.getByRole("button", { name: "Delete" }).click();
    await expect(page.getByRole("status")).toHaveText(`Host ${hostname} was deleted.`);
    await expect(page.getByRole("row").filter({ hasText: hostname })).toHaveCount(0);

    const events = await auditEventsViaApi(request, await sharedAdminAccessToken(request), { targetType: "host", targetId: String(id) });
    expect(events.map((e) => [e.action, e.actorEmail])).toEqual([
      ["HOST_DELETED", user.email],
      ["HOST_UPDATED", user.email],
      ["HOST_UPDATED", ADMIN.email],
      ["HOST_CREATED", user.email],
    ]);
  } finally {
    await context.close();
  }
});

test("An operator's failed metrics update keeps the last good metrics and says why; updates are audited as theirs", async ({
  browser,
  request,
  baseURL,
}, testInfo) => {
  const js = jsEnabled(testInfo.project.name);
  const healthy = await startPrometheusStub({ kind: "results", results: HEALTHY_NODE_RESULTS });
  const hanging = await startPrometheusStub({ kind: "delay", ms: 10_000 });
  const { user, context, page } = await contextAs(browser, request, baseURL!, "operator", js);
  try {
    const host = await createHostViaApi(request, await sharedAdminAccessToken(request), { hostname: uniqueHostname("op-metrics"), ip: "10.44.0.2" });
    await updateSettingsViaApi(request, { "prometheus.url": healthy.url, "prometheus.timeoutMs": 500 });
    await page.goto(`/hosts/${host.id}`);
    const panel = page.locator('[data-panel="metrics"]');
    if (js) await waitForEnhanced(page, "metrics-update-form");
    await panel.getByRole("button", { name: "Update metrics" }).click();
    await expect(panel.getByTestId("metrics-notice")).toHaveText("Metrics updated.");
    if (!js) await expect(page).toHaveURL(new RegExp(`/hosts/${host.id}\\?metrics=updated$`));
    await expect(panel.getByTestId("metrics-updated")).toContainText(`Last updated by ${user.email}`);
    const cpu = (await panel.getByRole("img", { name: /^CPU: \d/ }).locator("title").textContent()) ?? "";
    expect(cpu).toMatch(/^CPU: \d/);

    // Prometheus stops answering: the update ends at the timeout, the good snapshot stays.
    // (An update within the cooldown after another returns that one: wait it out.)
    await updateSettingsViaApi(request, { "prometheus.url": hanging.url });
    await page.waitForTimeout(METRICS_COOLDOWN_MS + 200);
    await panel.getByRole("button", { name: "Update metrics" }).click();
    await expect(panel.getByRole("alert")).toContainText("Prometheus did not answer within 0.5 s. The last good metrics are kept");
    if (!js) await expect(page).toHaveURL(new RegExp(`/hosts/${host.id}\\?metrics=timeout$`));
    await expect(panel.getByTestId("metrics-updated")).toContainText(`Last updated by ${user.email}`);
    await expect(panel.getByRole("img", { name: cpu, exact: true })).toBeVisible();

    const events = await auditEventsViaApi(request, await sharedAdminAccessToken(request), {
      action: "METRICS_UPDATED",
      targetType: "host",
      targetId: String(host.id),
    });
    // Newest first: the timed-out attempt is recorded as a failure, the good one as a success.
    const outcomes = events.map((e) => [e.actorEmail, (e as typeof e & { outcome: string }).outcome]);
    expect(outcomes).toEqual([
      [user.email, "failure"],
      [user.email, "success"],
    ]);
  } finally {
    await updateSettingsViaApi(request, { "prometheus.url": "", "prometheus.timeoutMs": 5_000 });
    await context.close();
    await healthy.close();
    await hanging.close();
  }
});

test("An operator copies the SSH command from its read-only field, uploads and downloads an artifact; each is audited as theirs", async ({
  browser,
  request,
  baseURL,
}, testInfo) => {
  const js = jsEnabled(testInfo.project.name);
  const { user, context, page } = await contextAs(browser, request, baseURL!, "operator", js);
  try {
    const token = await sharedAdminAccessToken(request);
    const host = await createHostViaApi(request, token, { hostname: uniqueHostname("op-files"), ip: "10.44.0.3", sshUser: "ops" });
    await page.goto(`/hosts/${host.id}`);

    // The command is plain text in a read-only field: selectable and copyable by hand.
    const command = page.getByLabel(/SSH command for/);
    await expect(command).toHaveValue("ssh -p 22 ops@10.44.0.3");
    await expect(command).toHaveAttribute("readonly", "");
    await expect(command).toBeEnabled();
    if (js) await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    await page.getByRole("button", { name: "Copy" }).click();
    await expect(page.getByRole("status").filter({ hasText: js ? /^Copied$/ : "Select the command and press Ctrl+C / ⌘C" })).toBeVisible();
    await expect(command).toHaveValue("ssh -p 22 ops@10.44.0.3");

    // Upload through the form, then download through the link: the same bytes.
    const name = `op-${stamp()}.log`;
    const buffer = Buffer.from(`${"operator log line\n".repeat(64)}`, "utf8");
    const panel = page.locator("#artifacts");
    if (js) await waitForEnhanced(page, "artifact-upload");
    await panel.getByLabel("Upload a file").setInputFiles({ name, mimeType: "text/plain", buffer });
    await panel.getByRole("button", { name: "Upload", exact: true }).click();
    if (!js) await expect(page).toHaveURL(new RegExp(`/hosts/${host.id}\\?artifact=uploaded#artifacts$`));
    const row = panel.getByRole("row").filter({ hasText: name });
    await expect(row).toContainText(user.email);
    const file = await downloadedText(page, () => row.getByRole("link", { name: `Download ${name}` }).click());
    expect(file.name).toBe(name);
    expect(createHash("sha256").update(file.text).digest("hex")).toBe(createHash("sha256").update(buffer).digest("hex"));

    const events = await auditEventsViaApi(request, token, { actor: user.email });
    const mine = events.filter((e) => (e.targetType === "host" && e.targetId === String(host.id)) || e.targetType === "artifact");
    expect(mine.map((e) => e.action).slice(0, 3)).toEqual(["ARTIFACT_DOWNLOADED", "ARTIFACT_UPLOADED", "SSH_COMMAND_COPIED"]);
  } finally {
    await context.close();
  }
});

test("An upload over the limit is refused on the host page with the limit, and nothing is stored", async ({ browser, request, baseURL }, testInfo) => {
  const js = jsEnabled(testInfo.project.name);
  const { context, page } = await contextAs(browser, request, baseURL!, "operator", js);
  try {
    const host = await createHostViaApi(request, await sharedAdminAccessToken(request), { hostname: uniqueHostname("op-limit") });
    await updateSettingsViaApi(request, { "artifacts.maxBytes": 1024 });
    await page.goto(`/hosts/${host.id}`);
    const panel = page.locator("#artifacts");
    if (js) await waitForEnhanced(page, "artifact-upload");
    await panel.getByLabel("Upload a file").setInputFiles({ name: "too-big.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(4096, 7) });
    await panel.getByRole("button", { name: "Upload", exact: true }).click();
    // With JavaScript the browser checks the size before sending; without, the server refuses and sends the page back.
    const refusal = panel.getByTestId("artifact-notice");
    await expect(refusal).toHaveAttribute("role", "alert");
    await expect(refusal).toContainText(js ? "the upload limit is 1.0 KB" : "larger than the upload limit of 1.0 KB");
    if (!js) await expect(page).toHaveURL(new RegExp(`/hosts/${host.id}\\?artifact=too_large#artifacts$`));
    await expect(page.getByRole("heading", { name: host.hostname, level: 1 })).toBeVisible();
    await expect(panel.getByTestId("artifact-total")).toHaveText("No artifacts for this host yet.");
    // A fresh load carries no stale message.
    await page.goto(`/hosts/${host.id}`);
    await expect(panel.getByTestId("artifact-notice")).toHaveCount(0);
  } finally {
    await updateSettingsViaApi(request, { "artifacts.maxBytes": 1_073_741_824 });
    await context.close();
  }
});

test("An auditor filters the log by actor, target and time, pages through it and exports exactly those events as JSONL", async ({
  browser,
  request,
  baseURL,
}, testInfo) => {
  const token = await sharedAdminAccessToken(request);
  const before = new Date(Date.now() - 60_000).toISOString().slice(0, 19);
  const host = await createHostViaApi(request, token, { hostname: uniqueHostname("audit-walk") });
  let version = host.version;
  for (const notes of ["one", "two", "three"]) {
    version = (await trpcMutation<{ version: number }>(request, token, "hosts.update", { id: host.id, version, notes })).version;
  }
  const { user: auditor, context, page } = await contextAs(browser, request, baseURL!, "auditor", jsEnabled(testInfo.project.name));
  try {
    await page.goto("/audit");
    const filters = page.getByRole("form", { name: "Filter audit events" });
    await filters.getByLabel("Actor").fill(ADMIN.email);
    await filters.getByLabel("Target type").fill("host");
    await filters.getByLabel("Target id").fill(String(host.id));
    await filters.getByLabel("From (UTC)").fill(before);
    await filters.getByRole("button", { name: "Apply filters" }).click();
    const query = `actor=${encodeURIComponent(ADMIN.email)}&targetType=host&targetId=${host.id}&from=${encodeURIComponent(before)}`;
    await expect(page).toHaveURL(new RegExp(`/audit\\?${query.replace(/[.?+]/g, "\\$&")}$`));
    const actions = page.getByTestId("audit-event").getByTestId("audit-action");
    await expect(actions).toHaveText(["HOST_UPDATED", "HOST_UPDATED", "HOST_UPDATED", "HOST_CREATED"]);
    await expect(filters.getByLabel("Target id")).toHaveValue(String(host.id));

    // Two a page: the older page keeps the filters; the newest link goes back.
    await page.goto(`/audit?${query}&limit=2`);
    await expect(actions).toHaveText(["HOST_UPDATED", "HOST_UPDATED"]);
    await page.getByRole("link", { name: "Older events" }).click();
    await expect(page).toHaveURL(/[?&]cursor=/);
    await expect(page).toHaveURL(new RegExp(`targetId=${host.id}`));
    await expect(actions).toHaveText(["HOST_UPDATED", "HOST_CREATED"]);
    await expect(page.getByRole("link", { name: "Older events" })).toHaveCount(0);
    await page.getByRole("link", { name: "Newest events" }).click();
    await expect(actions).toHaveText(["HOST_UPDATED", "HOST_UPDATED"]);

    // A time window that ends before the host existed matches nothing.
    await page.goto(`/audit?targetType=host&targetId=${host.id}&to=${encodeURIComponent(before)}`);
    await expect(page.getByText("No events match these filters.")).toBeVisible();

    // The JSONL export of the filtered view: exactly the four events, oldest first, with their chain hashes.
    await page.goto(`/audit?${query}`);
    const link = page.getByRole("link", { name: "Export JSONL" });
    await expect(link).toHaveAttribute("href", `/audit/export?${query}&format=jsonl`);
    const file = await downloadedText(page, () => link.click());
    expect(file.name).toMatch(/^audit-[\d-]+\.jsonl$/);
    const lines = file.text.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((l) => l.action)).toEqual(["HOST_CREATED", "HOST_UPDATED", "HOST_UPDATED", "HOST_UPDATED"]);
    expect(lines.map((l) => (l.after as { notes?: string } | null)?.notes ?? null)).toEqual(["", "one", "two", "three"]);
    for (const line of lines) {
      expect(line).toMatchObject({ actor_email: ADMIN.email, target_type: "host", target_id: String(host.id) });
      expect(line.hash).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(lines[1]!.prev_hash).not.toBeNull();

    // The export itself is in the log, as the auditor's.
    const exports = await auditEventsViaApi(request, token, { action: "AUDIT_EXPORTED", actor: auditor.email });
    expect(exports.length).toBeGreaterThan(0);
  } finally {
    await context.close();
  }
});

test("An admin enables a disabled user again, and the user can sign in", async ({ browser, request, baseURL }, testInfo) => {
  const js = jsEnabled(testInfo.project.name);
  const user = { email: uniqueEmail("enable"), password: "pw-flows-enable-correct-horse" };
  const created = await trpcMutation<{ user: { id: number } }>(request, await sharedAdminAccessToken(request), "users.create", {
    ...user,
    role: "viewer",
  });
  // The admin's shared session (never signed out here: other tests use it); the user signs in in a context of their own.
  const admin = await browser.newContext({ baseURL, storageState: await sharedStorageState(browser, baseURL!), javaScriptEnabled: js });
  const fresh = await browser.newContext({ baseURL, storageState: { cookies: [], origins: [] }, javaScriptEnabled: js });
  try {
    const page = await admin.newPage();
    const row = async () => {
      await page.goto("/users");
      for (;;) {
        const found = page.getByRole("row").filter({ hasText: user.email });
        if ((await found.count()) > 0) return found;
        await page.getByRole("link", { name: "Next page" }).click();
      }
    };
    await (await row()).getByRole("button", { name: `Disable ${user.email}` }).click();
    await expect(page.getByRole("status")).toContainText("User disabled");
    await (await row()).getByRole("button", { name: `Enable ${user.email}` }).click();
    await expect(page.getByRole("status")).toContainText("User enabled");
    await expect((await row()).getByRole("cell").nth(2)).toHaveText("active");

    const userPage = await fresh.newPage();
    await userPage.goto("/login?redirectTo=%2Fstatus");
    await userPage.getByLabel("Email").fill(user.email);
    await userPage.getByLabel("Password").fill(user.password);
    await userPage.getByRole("button", { name: "Sign in" }).click();
    await expect(userPage).toHaveURL(/\/status$/);
    await expect(userPage.getByRole("navigation", { name: "Main" })).toContainText(`${user.email} (viewer)`);

    const events = await auditEventsViaApi(request, await sharedAdminAccessToken(request), {
      action: "USER_UPDATED",
      targetType: "user",
      targetId: String(created.user.id),
    });
    expect(events.map((e) => e.actorEmail)).toEqual([ADMIN.email, ADMIN.email]);
  } finally {
    await admin.close();
    await fresh.close();
  }
});

test("The default SSH template saved in settings is the command on a host without its own", async ({ browser, request, baseURL }, testInfo) => {
  const context = await browser.newContext({
    baseURL,
    storageState: await sharedStorageState(browser, baseURL!),
    javaScriptEnabled: jsEnabled(testInfo.project.name),
  });
  try {
    const host = await createHostViaApi(request, await sharedAdminAccessToken(request), {
      hostname: uniqueHostname("ssh-default"),
      ip: "10.44.0.9",
      sshUser: "ops",
    });
    const page = await context.newPage();
    await page.goto("/settings");
    const template = page.getByLabel("Default SSH template", { exact: true });
    await template.fill("ssh -o ServerAliveInterval=30 -p {{port}} {{user}}@{{host}}");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect(page.getByRole("status")).toHaveText("Settings saved");
    await expect(template).toHaveValue("ssh -o ServerAliveInterval=30 -p {{port}} {{user}}@{{host}}");

    await page.goto(`/hosts/${host.id}`);
    await expect(page.getByLabel(/SSH command for/)).toHaveValue("ssh -o ServerAliveInterval=30 -p 22 ops@10.44.0.9");
    await expect(page.getByText("From the default template in settings")).toBeVisible();
  } finally {
    await updateSettingsViaApi(request, { "ssh.defaultTemplate": DEFAULT_SSH_TEMPLATE });
    await context.close();
  }
});
