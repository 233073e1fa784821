import { readFileSync } from "node:fs";
import type { Page } from "@playwright/test";
import { expect, jsEnabled, test } from "./fixtures";
import {
  ADMIN,
  auditEventsViaApi,
  createHostViaApi,
  sharedAdminAccessToken,
  sharedStorageState,
  sharedViewer,
  trpcMutation,
  uniqueHostname,
} from "./helpers";

/*
 * Host pages, with JavaScript on (js) and off (no-js). Tests run as the admin through one
 * shared sign-in (sharedStorageState): every sign-in counts against the per-IP login limit
 * the whole e2e run shares. Hosts are made unique per test, so tests never depend on
 * what else is in the inventory.
 */
test.use({
  storageState: async ({ browser, baseURL }, use) => {
    await use(await sharedStorageState(browser, baseURL!));
  },
});

const stamp = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;

/** Submits the filter form: by itself with JavaScript, with the Filter button without. */
async function applyFilters(page: Page, projectName: string) {
  if (!jsEnabled(projectName)) await page.getByRole("button", { name: "Filter" }).click();
}

async function fillHostForm(page: Page, fields: Record<string, string>) {
  for (const [label, value] of Object.entries(fields)) {
    await page.getByLabel(label, { exact: true }).fill(value);
  }
}

test("A host is created with the form, then listed, searched and filtered", async ({ page }, testInfo) => {
  const hostname = uniqueHostname("create");
  const environment = `env-${stamp()}`;
  const tag = `tag-${stamp()}`;

  await page.goto("/hosts/new");
  await expect(page.getByRole("heading", { name: "Add a host" })).toBeVisible();
  await expect(page.getByText("<ip or hostname>:9100")).toBeVisible();
  await expect(page.getByText("is the IP address when one is set, else the hostname")).toBeVisible();

  // A field error is shown beside its field, and every value is kept.
  await fillHostForm(page, { Hostname: "not a hostname", "IP address": "10.20.30.40", Notes: "kept\nacross errors" });
  await page.getByRole("button", { name: "Create host" }).click();
  await expect(page.locator("#hostname-error")).toContainText("Hostname may only contain");
  await expect(page.getByLabel("IP address", { exact: true })).toHaveValue("10.20.30.40");
  await expect(page.getByLabel("Notes", { exact: true })).toHaveValue(/kept\r?\nacross errors/);

  await fillHostForm(page, {
    Hostname: hostname,
    Port: "2202",
    "SSH user": "deploy",
    Environment: environment,
    OS: "Debian 12",
    Tags: `${tag}; web`,
  });
  await page.getByRole("button", { name: "Create host" }).click();
  await expect(page).toHaveURL(/\/hosts\/\d+$/);
  await expect(page.getByRole("heading", { name: hostname, level: 1 })).toBeVisible();
  await expect(page.getByRole("list", { name: "Tags" }).getByRole("listitem")).toHaveText([tag, "web"]);

  // Search box
  await page.goto("/hosts");
  if (jsEnabled(testInfo.project.name)) {
    await page.evaluate(() => {
      (window as unknown as { sameDocument?: boolean }).sameDocument = true;
    });
  }
  await page.getByLabel("Search").fill(hostname);
  await applyFilters(page, testInfo.project.name);
  await expect(page).toHaveURL(new RegExp(`[?&]q=${hostname.replace(/\./g, "\\.")}`));
  await expect(page.getByTestId("host-total")).toHaveText("1 host");
  const row = page.getByRole("row").filter({ hasText: hostname });
  await expect(row.getByRole("cell")).toHaveText([hostname, "10.20.30.40", environment, `${tag}web`, "Debian 12", /UTC$/]);

  // Environment and tag selects (from the facets)
  await page.getByLabel("Search").fill("");
  await page.getByLabel("Environment").selectOption(environment);
  await applyFilters(page, testInfo.project.name);
  await expect(page).toHaveURL(new RegExp(`environment=${environment}`));
  await expect(page.getByTestId("host-total")).toHaveText("1 host");
  await expect(page.getByRole("link", { name: hostname })).toBeVisible();

  await page.getByLabel("Environment").selectOption("");
  await page.getByLabel("Tag", { exact: true }).selectOption(tag);
  await applyFilters(page, testInfo.project.name);
  await expect(page).toHaveURL(new RegExp(`tags=${tag}`));
  await expect(page.getByTestId("host-total")).toHaveText("1 host");
  await expect(page.getByRole("link", { name: hostname })).toBeVisible();

  // With JavaScript, filtering never reloaded the document.
  if (jsEnabled(testInfo.project.name)) {
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  }

  // No match: the empty state offers to clear the filters.
  await page.goto(`/hosts?q=no-such-host-${stamp()}`);
  await expect(page.getByText("No hosts match these filters.")).toBeVisible();
  await page.getByRole("link", { name: "Clear filters" }).click();
  await expect(page).toHaveURL(/\/hosts$/);
  await expect(page.getByLabel("Search")).toHaveValue("");
});

test("The list pages with a cursor that keeps the filters", async ({ page, request }) => {
  const token = await sharedAdminAccessToken(request);
  const prefix = `page-${stamp()}`;
  const a = await createHostViaApi(request, token, { hostname: `${prefix}-a.e2e.test` });
  const b = await createHostViaApi(request, token, { hostname: `${prefix}-b.e2e.test` });

  await page.goto(`/hosts?q=${prefix}&limit=1`);
  await expect(page.getByTestId("host-total")).toHaveText("2 hosts");
  await expect(page.getByRole("link", { name: a.hostname })).toBeVisible();
  await expect(page.getByRole("link", { name: "First page" })).toHaveCount(0);
  await page.getByRole("link", { name: "Next page" }).click();
  await expect(page).toHaveURL(new RegExp(`q=${prefix}.*cursor=`));
  await expect(page.getByRole("link", { name: b.hostname })).toBeVisible();
  await expect(page.getByRole("link", { name: a.hostname })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Next page" })).toHaveCount(0);
  await page.getByRole("link", { name: "First page" }).click();
  await expect(page.getByRole("link", { name: a.hostname })).toBeVisible();
});

test("A host's link and its tag chips in the list navigate in place with JavaScript, and as plain links without", async ({ page, request }, testInfo) => {
  const token = await sharedAdminAccessToken(request);
  const tag = `chip-${stamp()}`;
  const host = await createHostViaApi(request, token, { hostname: `${tag}.e2e.test`, tags: [tag] });
  const js = jsEnabled(testInfo.project.name);

  await page.goto(`/hosts?q=${host.hostname}`);
  // Hydrated once the Filter button (for JavaScript-less browsers) is gone; a mark on the
  // window then survives only navigations that do not reload the document.
  if (js) {
    await expect(page.getByRole("button", { name: "Filter" })).toHaveCount(0);
    await page.evaluate(() => Object.assign(window, { opsdeskMark: "same document" }));
  }
  const sameDocument = () => page.evaluate(() => (window as unknown as { opsdeskMark?: string }).opsdeskMark ?? "reloaded");

  await page.getByRole("link", { name: tag, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`tags=${tag}`));
  await expect(page.getByTestId("host-total")).toHaveText("1 host");
  await page.getByRole("link", { name: host.hostname }).click();
  await expect(page).toHaveURL(new RegExp(`/hosts/${host.id}$`));
  await expect(page.getByRole("heading", { name: host.hostname })).toBeVisible();
  if (js) expect(await sameDocument()).toBe("same document");
});

test("A host is edited with the pre-filled form", async ({ page, request }) => {
  const token = await sharedAdminAccessToken(request);
  const host = await createHostViaApi(request, token, {
    hostname: uniqueHostname("edit"),
    ip: "10.1.1.1",
    os: "Ubuntu 22.04",
    tags: ["a", "b"],
  });
  await page.goto(`/hosts/${host.id}`);
  await page.getByRole("link", { name: "Edit" }).click();
  await expect(page).toHaveURL(new RegExp(`/hosts/${host.id}/edit$`));
  await expect(page.getByLabel("Hostname", { exact: true })).toHaveValue(host.hostname);
  await expect(page.getByLabel("Tags", { exact: true })).toHaveValue("a; b");
  await expect(page.getByLabel("OS", { exact: true })).toHaveValue("Ubuntu 22.04");

  await fillHostForm(page, { OS: "Ubuntu 24.04", Tags: "a; c", "IP address": "" });
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(new RegExp(`/hosts/${host.id}$`));
  await expect(page.getByRole("list", { name: "Tags" }).getByRole("listitem")).toHaveText(["a", "c"]);
  await expect(page.getByText("Ubuntu 24.04")).toBeVisible();
  await expect(page.getByText("(version 2)")).toBeVisible();
});

test("Saving over someone else's change shows both values, and saving again applies yours", async ({ page, request }) => {
  const token = await sharedAdminAccessToken(request);
  const host = await createHostViaApi(request, token, { hostname: uniqueHostname("conflict"), os: "original-os" });
  await page.goto(`/hosts/${host.id}/edit`);
  await fillHostForm(page, { OS: "mine-os", Notes: "my note" });

  // Meanwhile a script changes the host.
  await trpcMutation(request, token, "hosts.update", { id: host.id, version: host.version, os: "theirs-os" });

  await page.getByRole("button", { name: "Save" }).click();
  const panel = page.getByTestId("conflict-panel");
  await expect(panel).toBeVisible();
  await expect(panel.getByRole("alert")).toContainText("Someone changed");
  const osRow = panel.getByRole("row", { name: /^OS/ });
  await expect(osRow.getByRole("cell")).toHaveText(["theirs-os", "mine-os"]);
  await expect(osRow).toHaveAttribute("data-differs", "true");
  await expect(panel.getByRole("row", { name: /^Hostname/ })).not.toHaveAttribute("data-differs", "true");
  // The form keeps the user's values, on top of the new version.
  await expect(page.getByLabel("OS", { exact: true })).toHaveValue("mine-os");
  await expect(page.locator('input[name="version"]')).toHaveValue(String(host.version + 1));
  await expect(panel.getByRole("link", { name: /discard your changes/ })).toHaveAttribute("href", `/hosts/${host.id}/edit`);

  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(new RegExp(`/hosts/${host.id}$`));
  await expect(page.getByText("mine-os")).toBeVisible();
  await expect(page.getByTestId("host-notes")).toHaveText("my note");
});

test("A host is deleted after confirmation; a stale confirmation shows the conflict", async ({ page, request }) => {
  const token = await sharedAdminAccessToken(request);
  const host = await createHostViaApi(request, token, { hostname: uniqueHostname("delete") });
  await page.goto(`/hosts/${host.id}`);
  await page.getByRole("link", { name: "Delete" }).click();
  await expect(page).toHaveURL(new RegExp(`/hosts/${host.id}/delete$`));
  await expect(page.getByText(`Delete ${host.hostname}? This cannot be undone.`)).toBeVisible();
  await expect(page.getByRole("link", { name: "Cancel" })).toHaveAttribute("href", `/hosts/${host.id}`);

  await trpcMutation(request, token, "hosts.update", { id: host.id, version: host.version, notes: "changed meanwhile" });
  await page.getByRole("button", { name: "Delete" }).click();
  await expect(page.getByRole("alert")).toContainText("Someone changed");
  await expect(page.getByRole("link", { name: "Review the host as it is now" })).toHaveAttribute("href", `/hosts/${host.id}`);

  await page.getByRole("button", { name: "Delete" }).click();
  await expect(page).toHaveURL(new RegExp(`/hosts\\?deleted=${host.hostname.replace(/\./g, "\\.")}$`));
  await expect(page.getByRole("status")).toHaveText(`Host ${host.hostname} was deleted.`);
  const gone = await page.goto(`/hosts/${host.id}`);
  expect(gone?.status()).toBe(404);
});

test("The SSH command uses -J only with a bastion, and Copy is recorded", async ({ page, context, request }, testInfo) => {
  const token = await sharedAdminAccessToken(request);
  const withBastion = await createHostViaApi(request, token, {
    hostname: uniqueHostname("ssh-jump"),
    ip: "10.9.8.7",
    port: 2222,
    sshUser: "deploy",
    bastion: "jump.e2e.test",
  });
  const direct = await createHostViaApi(request, token, { hostname: uniqueHostname("ssh-direct"), sshUser: "ops" });

  await page.goto(`/hosts/${direct.id}`);
  const command = page.getByLabel(/SSH command for/);
  await expect(command).toHaveValue(new RegExp(`ops@${direct.hostname.replace(/\./g, "\\.")}$`));
  await expect(command).not.toHaveValue(/-J/);
  await expect(command).toHaveAttribute("readonly", "");

  await page.goto(`/hosts/${withBastion.id}`);
  await expect(command).toHaveValue(/-J jump\.e2e\.test/);
  await expect(command).toHaveValue(/-p 2222/);
  await expect(command).toHaveValue(/deploy@10\.9\.8\.7$/);
  const value = await command.inputValue();

  if (jsEnabled(testInfo.project.name)) {
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    const recorded = page.waitForResponse((res) => res.url().includes("/api/trpc/hosts.recordSshCopy"));
    await page.getByRole("button", { name: "Copy" }).click();
    await expect(page.getByRole("status")).toHaveText("Copied");
    expect((await recorded).status()).toBe(200);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(value);
  } else {
    await page.getByRole("button", { name: "Copy" }).click();
    await expect(page.getByRole("status")).toHaveText("Select the command and press Ctrl+C / ⌘C");
    await expect(command).toHaveValue(value);
  }
  // Either way the copy is in the audit log, once, as the admin's.
  const copies = await auditEventsViaApi(request, token, { action: "SSH_COMMAND_COPIED", targetType: "host", targetId: String(withBastion.id) });
  expect(copies.map((e) => e.actorEmail)).toEqual([ADMIN.email]);
});

test("Two tabs edit the same host: the second save shows the conflict with the first tab's values, and saving again applies it", async ({
  context,
  request,
}) => {
  const token = await sharedAdminAccessToken(request);
  const host = await createHostViaApi(request, token, { hostname: uniqueHostname("two-tabs"), os: "original-os", environment: "prod" });
  const first = await context.newPage();
  const second = await context.newPage();
  await first.goto(`/hosts/${host.id}/edit`);
  await second.goto(`/hosts/${host.id}/edit`);

  await fillHostForm(first, { OS: "first-tab-os" });
  await first.getByRole("button", { name: "Save" }).click();
  await expect(first).toHaveURL(new RegExp(`/hosts/${host.id}$`));
  await expect(first.getByText("(version 2)")).toBeVisible();

  // The second tab still holds version 1.
  await fillHostForm(second, { Environment: "staging" });
  await second.getByRole("button", { name: "Save" }).click();
  const panel = second.getByTestId("conflict-panel");
  await expect(panel.getByRole("alert")).toContainText("Someone changed");
  await expect(panel.getByRole("row", { name: /^OS/ }).getByRole("cell")).toHaveText(["first-tab-os", "original-os"]);
  await expect(panel.getByRole("row", { name: /^Environment/ }).getByRole("cell")).toHaveText(["prod", "staging"]);
  await expect(second.getByLabel("Environment", { exact: true })).toHaveValue("staging");
  await expect(second.locator('input[name="version"]')).toHaveValue("2");
  // Nothing of the second tab was written.
  await first.reload();
  await expect(first.getByText("(version 2)")).toBeVisible();

  // Taking the first tab's OS and keeping its own environment, the second tab saves.
  await fillHostForm(second, { OS: "first-tab-os" });
  await second.getByRole("button", { name: "Save" }).click();
  await expect(second).toHaveURL(new RegExp(`/hosts/${host.id}$`));
  await expect(second.getByText("(version 3)")).toBeVisible();
  await expect(second.getByText("first-tab-os")).toBeVisible();
  await expect(second.getByRole("definition").filter({ hasText: /^staging$/ })).toBeVisible();
});

test("A host whose template cannot make a safe command still shows its page", async ({ page, request }) => {
  const token = await sharedAdminAccessToken(request);
  // Valid on its own, but with this hostname the command would set ProxyCommand: refused.
  const host = await createHostViaApi(request, token, {
    hostname: uniqueHostname("proxycommand"),
    sshTemplate: "ssh -o{{hostname}}",
  });
  const res = await page.goto(`/hosts/${host.id}`);
  expect(res?.status()).toBe(200);
  await expect(page.getByRole("region", { name: "SSH command" }).getByRole("alert")).toContainText(
    "Fix the host's fields or its SSH template",
  );
  await expect(page.getByRole("heading", { name: "Metrics" })).toBeVisible();
});

test("HTML in a host's fields is shown as text", async ({ page }) => {
  const dialogs: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  const hostname = uniqueHostname("xss");
  const note = "<script>alert(1)</script>\nsecond <b>line</b>";
  const os = '<img src=x onerror="alert(2)">';
  await page.goto("/hosts/new");
  await fillHostForm(page, { Hostname: hostname, OS: os, Notes: note });
  await page.getByRole("button", { name: "Create host" }).click();
  await expect(page).toHaveURL(/\/hosts\/\d+$/);
  await expect(page.getByTestId("host-notes")).toHaveText(note);
  await expect(page.getByText(os)).toBeVisible();
  await expect(page.locator("main img, main b, main script")).toHaveCount(0);

  await page.goto(`/hosts?q=${hostname}`);
  await expect(page.getByRole("row").filter({ hasText: hostname }).getByRole("cell").nth(4)).toHaveText(os);
  await expect(page.locator("main img")).toHaveCount(0);
  expect(dialogs).toEqual([]);
});

test("Export CSV downloads the filtered hosts; scripts without a session get 401", async ({ page, request, playwright, baseURL }) => {
  const token = await sharedAdminAccessToken(request);
  const tag = `export-${stamp()}`;
  const host = await createHostViaApi(request, token, { hostname: uniqueHostname("export"), tags: [tag], notes: "a, \"quoted\" note" });
  const other = await createHostViaApi(request, token, { hostname: uniqueHostname("export-other") });

  await page.goto(`/hosts?tags=${tag}`);
  const link = page.getByRole("link", { name: "Export CSV" });
  await expect(link).toHaveAttribute("href", `/hosts/export.csv?tags=${tag}`);
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  expect(download.suggestedFilename()).toBe("hosts.csv");
  const csv = readFileSync((await download.path())!, "utf8");
  expect(csv.split(/\r?\n/)[0]).toBe("hostname,ip,port,ssh_user,bastion,environment,os,tags,prometheus_instance,notes,ssh_template");
  expect(csv).toContain(host.hostname);
  expect(csv).toContain('"a, ""quoted"" note"');
  expect(csv).not.toContain(other.hostname);

  // The same file through the page's cookies, with its headers.
  const res = await page.request.get(`/hosts/export.csv?tags=${tag}`);
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toBe("text/csv; charset=utf-8");
  expect(res.headers()["content-disposition"]).toBe('attachment; filename="hosts.csv"');

  // Scripts: a Bearer token works; a bad one is a plain 401; a browser without a session goes to sign in.
  const anonymous = await playwright.request.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  try {
    const withToken = await anonymous.get(`/hosts/export.csv?tags=${tag}`, { headers: { authorization: `Bearer ${token}` } });
    expect(withToken.status()).toBe(200);
    expect(await withToken.text()).toContain(host.hostname);
    const badToken = await anonymous.get("/hosts/export.csv", { headers: { authorization: "Bearer nope" } });
    expect(badToken.status()).toBe(401);
    const noSession = await anonymous.get("/hosts/export.csv?q=x", { maxRedirects: 0 });
    expect(noSession.status()).toBe(302);
    expect(noSession.headers().location).toBe(`/login?redirectTo=${encodeURIComponent("/hosts/export.csv?q=x")}`);
  } finally {
    await anonymous.dispose();
  }
});

test("Unknown or malformed host ids are 404 pages", async ({ page }) => {
  for (const path of ["/hosts/2147483000", "/hosts/abc", "/hosts/99999999999999/edit", "/hosts/0/delete"]) {
    const res = await page.goto(path);
    expect(res?.status(), path).toBe(404);
    await expect(page.getByRole("heading", { name: /404/ })).toBeVisible();
  }
});

test("A viewer sees hosts and the SSH command but no Add, Edit or Delete, and gets 403 on /hosts/new", async ({
  browser,
  request,
  baseURL,
}, testInfo) => {
  const token = await sharedAdminAccessToken(request);
  const host = await createHostViaApi(request, token, { hostname: uniqueHostname("viewer"), bastion: "jump.e2e.test" });
  const viewer = await sharedViewer(request, browser, baseURL!);
  const context = await browser.newContext({
    baseURL,
    storageState: viewer.storageState,
    javaScriptEnabled: jsEnabled(testInfo.project.name),
  });
  try {
    const page = await context.newPage();
    await page.goto(`/hosts?q=${host.hostname}`);
    await expect(page.getByRole("link", { name: host.hostname })).toBeVisible();
    await expect(page.getByRole("link", { name: "Export CSV" })).toBeVisible();
    await expect(page.getByRole("link", { name: "Add host" })).toHaveCount(0);
    await expect(page.getByRole("link", { name: "Import CSV" })).toHaveCount(0);

    await page.getByRole("link", { name: host.hostname }).click();
    await expect(page).toHaveURL(new RegExp(`/hosts/${host.id}$`));
    await expect(page.getByLabel(/SSH command for/)).toHaveValue(/-J jump\.e2e\.test/);
    await expect(page.getByRole("link", { name: "Edit" })).toHaveCount(0);
    await expect(page.getByRole("link", { name: "Delete" })).toHaveCount(0);

    for (const path of ["/hosts/new", `/hosts/${host.id}/edit`, `/hosts/${host.id}/delete`]) {
      const res = await page.goto(path);
      expect(res?.status(), path).toBe(403);
      await expect(page.getByText("Your role (viewer) cannot open this page.")).toBeVisible();
    }
  } finally {
    await context.close();
  }
});
