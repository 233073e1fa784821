import type { Browser, Page } from "@playwright/test";
import { currentTotpCode } from "../../server/auth/primitives/totp";
import { analyze, describeViolations, expectAccessible, hostWithEverything, tabStops, visitAndCheck } from "./a11y-support";
import { expect, jsEnabled, test } from "./fixtures";
import {
  ADMIN,
  csvFile,
  sharedAdminAccessToken,
  sharedStorageState,
  sharedUserOfRole,
  signIn,
  trpcMutation,
  uniqueHostname,
  updateSettingsViaApi,
  waitForEnhanced,
} from "./helpers";

/*
 * axe-core over every page, with JavaScript on (js) and off (no-js), as each role whose
 * pages differ, and in the states that matter: empty, full, and with errors. A test fails
 * on a serious or critical violation (WCAG 2.0/2.1 A and AA, best practices) and prints
 * every violation found with its selector. Sessions are shared (sharedStorageState /
 * sharedUserOfRole) to spare sign-ins.
 */

// A test walks many pages, an axe run each (1-3 s on a busy machine).
test.describe.configure({ timeout: 120_000 });

type Role = "admin" | "operator" | "auditor" | "viewer";

/** A page signed in as `role`, with the project's JavaScript setting; closed by the caller. */
async function pageAs(browser: Browser, request: Parameters<typeof sharedUserOfRole>[0], baseURL: string, role: Role, js: boolean) {
  const storageState =
    role === "admin" ? await sharedStorageState(browser, baseURL) : (await sharedUserOfRole(request, browser, baseURL, role)).storageState;
  const context = await browser.newContext({ baseURL, storageState, javaScriptEnabled: js });
  return { page: await context.newPage(), close: () => context.close() };
}

/** Fills the paste box and runs a dry run through the form; lands on the stored run. */
async function dryRunPasted(page: Page, lines: string[]) {
  await page.goto("/hosts/import");
  await page.getByLabel("…or paste CSV").fill(lines.join("\n"));
  await page.getByRole("button", { name: "Dry run" }).click();
  await expect(page).toHaveURL(/\/hosts\/import\?run=[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { name: "Dry run result" })).toBeVisible();
}

test("The checker itself fails a page with an unlabelled field and unreadable text", async ({ page }) => {
  // Proof that axe runs in this project (also with JavaScript off) and that its findings reach the assertion.
  await page.setContent(
    '<html lang="en"><head><title>broken</title></head><body><main><input name="q"><p style="color:#bbb;background:#fff">faint</p></main></body></html>',
  );
  const results = await analyze(page);
  const found = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id);
  expect(found).toEqual(expect.arrayContaining(["label", "color-contrast"]));
  // The report names the element, so a failure says where to look.
  expect(describeViolations(results.violations)).toMatch(/\[critical\] label: .*\n\s+at input\n/);
});

test.describe("without a session", () => {
  test("The sign-in page, its error state, the status page and the 404 page have no serious violations", async ({ page }) => {
    await visitAndCheck(page, "/login", "sign-in");
    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toBeVisible();
    await expectAccessible(page, "sign-in after a wrong password");
    await visitAndCheck(page, "/status", "status, signed out");
    await visitAndCheck(page, "/no/such/page", "404 page", 404);
  });
});

test.describe("as the admin", () => {
  test.use({
    storageState: async ({ browser, baseURL }, use) => {
      await use(await sharedStorageState(browser, baseURL!));
    },
  });

  test("Status, the host list and a host with metrics, SSH command and artifacts have no serious violations", async ({
    page,
    request,
  }) => {
    const token = await sharedAdminAccessToken(request);
    const host = await hostWithEverything(request, token);
    await visitAndCheck(page, "/", "start page (status)");
    await visitAndCheck(page, "/hosts", "host list");
    await visitAndCheck(page, `/hosts?q=${host.hostname}`, "host list, searched");
    await visitAndCheck(page, `/hosts?q=no-such-host-${Date.now()}`, "host list, nothing matches");
    await visitAndCheck(page, `/hosts/${host.id}`, "host detail with metrics, SSH and artifacts");
    await expect(page.getByRole("img", { name: /^CPU: \d/ })).toBeVisible();
    await expect(page.locator("#artifacts").getByRole("row")).toHaveCount(3);
    await visitAndCheck(page, `/hosts/${host.id}?metrics=updated`, "host detail after a metrics update");
    await visitAndCheck(page, `/hosts/${host.id}?metrics=not_configured`, "host detail, Prometheus not configured");
    await visitAndCheck(page, `/hosts/${host.id}?artifact=uploaded#artifacts`, "host detail after an upload");
    await visitAndCheck(page, `/hosts/${host.id}?artifactsCursor=garbage`, "host detail, unreadable artifact cursor");
  });

  test("The host forms, with field errors and conflicts, have no serious violations", async ({ page, request }) => {
    const token = await sharedAdminAccessToken(request);
    const host = await trpcMutation<{ id: number; version: number; hostname: string }>(request, token, "hosts.create", {
      hostname: uniqueHostname("a11y-form"),
    });
    await visitAndCheck(page, "/hosts/new", "new host form");
    await page.getByLabel("Hostname", { exact: true }).fill("not a hostname");
    await page.getByLabel("Port", { exact: true }).fill("99999");
    await page.getByRole("button", { name: "Create host" }).click();
    await expect(page.locator("#hostname-error")).toBeVisible();
    await expectAccessible(page, "new host form with field errors");

    await visitAndCheck(page, `/hosts/${host.id}/edit`, "edit host form");
    await trpcMutation(request, token, "hosts.update", { id: host.id, version: host.version, os: "theirs" });
    await page.getByLabel("OS", { exact: true }).fill("mine");
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.getByTestId("conflict-panel")).toBeVisible();
    await expectAccessible(page, "edit host form with a conflict");

    await visitAndCheck(page, `/hosts/${host.id}/delete`, "delete host confirmation");
    await trpcMutation(request, token, "hosts.update", { id: host.id, version: host.version + 1, notes: "meanwhile" });
    await page.getByRole("button", { name: "Delete" }).click();
    await expect(page.getByRole("alert")).toContainText("Someone changed");
    await expectAccessible(page, "delete host confirmation with a conflict");
  });

  test("The import page, a dry run with errors, one ready to apply and an applied one have no serious violations", async ({ page }) => {
    const tag = `a11y-imp-${Date.now().toString(36)}`;
    await visitAndCheck(page, "/hosts/import", "import form");
    await page.getByRole("button", { name: "Dry run" }).click();
    await expect(page.getByRole("alert")).toBeVisible();
    await expectAccessible(page, "import form refused (nothing to check)");

    await dryRunPasted(page, ["hostname,ip,port", `${tag}-a.e2e.test,10.7.0.1,22`, `${tag}-b.e2e.test,10.7.0.2,99999`, "bad host,,"]);
    await expect(page.getByRole("table", { name: "Errors" })).toBeVisible();
    await expectAccessible(page, "dry run result with errors");

    await dryRunPasted(page, ["hostname,ip", `${tag}-c.e2e.test,10.7.0.3`]);
    await expect(page.getByRole("button", { name: "Apply 1 change" })).toBeVisible();
    await expectAccessible(page, "dry run result ready to apply");
    await page.getByRole("button", { name: "Apply 1 change" }).click();
    await expect(page.getByRole("status")).toContainText("The import was applied");
    await expectAccessible(page, "import applied");
  });

  test("A running import's page (progress bar and status line) has no serious violations", async ({ page, request, baseURL }) => {
    // An apply whose body is still arriving: its run stays running (lock held) until the
    // stream ends, so the page is checked in that state without a race.
    const token = await sharedAdminAccessToken(request);
    const runId = crypto.randomUUID();
    const tag = `a11y-run-${Date.now().toString(36)}`;
    const encoder = new TextEncoder();
    let stream!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        stream = controller;
      },
    });
    const answer = fetch(`${baseURL}/hosts/import.csv?dryRun=false&runId=${runId}`, {
      method: "POST",
      body,
      duplex: "half",
      headers: { authorization: `Bearer ${token}`, "content-type": "text/csv" },
    } as RequestInit & { duplex: "half" });
    stream.enqueue(encoder.encode(`hostname,ip\n${tag}-a.e2e.test,10.6.0.1\n`));
    try {
      await expect(async () => {
        await page.goto(`/hosts/import?run=${runId}`);
        await expect(page.getByRole("progressbar", { name: /^Applying: \d+ rows$/ })).toBeVisible({ timeout: 1_000 });
      }).toPass({ timeout: 15_000 });
      await expectAccessible(page, "import running");
    } finally {
      stream.enqueue(encoder.encode(`${tag}-b.e2e.test,10.6.0.2\n`));
      stream.close();
    }
    const result = (await (await answer).json()) as { applied: boolean; created: number };
    expect(result).toMatchObject({ applied: true, created: 2 });
    // The page turns into the result by itself (revalidation with JavaScript, its
    // <noscript> refresh every 2 s without). A goto here raced that refresh and was
    // interrupted by it.
    await expect(page.getByRole("heading", { name: "Import applied" })).toBeVisible({ timeout: 10_000 });
  });

  test("Users, settings and the account page, with their error states, have no serious violations", async ({ page, request }) => {
    await visitAndCheck(page, "/users", "users");
    const email = `a11y-${Date.now()}-${Math.floor(Math.random() * 1e6)}@e2e.test`;
    await page.getByLabel("Email", { exact: true }).fill(email);
    await page.getByRole("button", { name: "Create user" }).click();
    await expect(page.getByTestId("temporary-password")).toBeVisible();
    await expectAccessible(page, "users after creating one (temporary password shown)");
    await page.getByLabel("Email", { exact: true }).fill(email);
    await page.getByRole("button", { name: "Create user" }).click();
    await expect(page.getByRole("alert")).toBeVisible();
    await expectAccessible(page, "users with a refused create");

    try {
      await visitAndCheck(page, "/settings", "settings");
      await page.getByLabel("Query timeout (seconds)", { exact: true }).fill("0");
      await page.getByRole("button", { name: "Save", exact: true }).click();
      await expect(page.locator("#prometheus-timeoutMs-error")).toBeVisible();
      await expectAccessible(page, "settings with a field error");
      await page.goto("/settings");
      await page.getByLabel("Prometheus URL", { exact: true }).fill("http://127.0.0.1:9");
      await page.getByRole("button", { name: "Test connection", exact: true }).click();
      await expect(page.getByRole("alert")).toContainText("Could not reach Prometheus");
      await expectAccessible(page, "settings with a failed connection test");
    } finally {
      await updateSettingsViaApi(request, { "prometheus.timeoutMs": 5_000 });
    }

    await visitAndCheck(page, "/account", "account");
    await page.getByLabel("Current password").fill("not-my-password-at-all");
    await page.getByLabel("New password").fill("a-new-password-long-enough");
    await page.getByRole("button", { name: "Change password" }).click();
    await expect(page.locator("#password").getByRole("alert")).toBeVisible();
    await expectAccessible(page, "account with a refused password change");
    await page.getByLabel("Token name").fill(`a11y-${Date.now()}`);
    await page.getByRole("button", { name: "Create token" }).click();
    await expect(page.getByTestId("new-token")).toBeVisible();
    await expectAccessible(page, "account with a new token shown once");
  });

  test("In the dark colour scheme the main pages keep their contrast", async ({ page, request }) => {
    // Tailwind's dark: classes follow the system setting (darkMode: "media").
    await page.emulateMedia({ colorScheme: "dark" });
    const host = await hostWithEverything(request, await sharedAdminAccessToken(request));
    for (const [path, what] of [
      ["/status", "status"],
      ["/hosts", "host list"],
      [`/hosts/${host.id}`, "host detail"],
      ["/hosts/new", "new host form"],
      ["/hosts/import", "import form"],
      ["/audit", "audit log"],
      ["/users", "users"],
      ["/account", "account"],
      ["/settings", "settings"],
    ]) {
      await visitAndCheck(page, path!, `${what}, dark scheme`);
    }
    await page.goto("/hosts/new");
    await page.getByLabel("Hostname", { exact: true }).fill("not a hostname");
    await page.getByRole("button", { name: "Create host" }).click();
    await expect(page.locator("#hostname-error")).toBeVisible();
    await expectAccessible(page, "new host form with field errors, dark scheme");
  });

  test("The audit log, filtered, with an event's details open and the chain verified, has no serious violations", async ({
    page,
  }) => {
    await visitAndCheck(page, "/audit", "audit log");
    await page.getByLabel("Action", { exact: true }).selectOption("HOST_CREATED");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect(page).toHaveURL(/action=HOST_CREATED/);
    await page.getByText(/^Details of event #\d+$/).first().click();
    await expect(page.getByTestId("audit-diff").first()).toBeVisible();
    await expectAccessible(page, "audit log, filtered, details open");
    await page.getByRole("button", { name: "Verify chain" }).click();
    await expect(page.getByTestId("verify-result")).toBeVisible();
    await expectAccessible(page, "audit log after verifying the chain");
    await visitAndCheck(page, "/audit?from=not-a-date", "audit log with a bad filter");
    await expect(page.getByRole("alert")).toBeVisible();
  });
});

test.describe("as the other roles", () => {
  test("An operator's, an auditor's and a viewer's pages have no serious violations", async ({ browser, request, baseURL }, testInfo) => {
    const js = jsEnabled(testInfo.project.name);
    const host = await hostWithEverything(request, await sharedAdminAccessToken(request));
    const pages: Record<Exclude<Role, "admin">, [path: string, what: string, status?: number][]> = {
      operator: [
        ["/hosts", "host list"],
        [`/hosts/${host.id}`, "host detail"],
        ["/hosts/import", "import form"],
        ["/account", "account"],
        ["/audit", "403 page", 403],
      ],
      auditor: [
        ["/hosts", "host list"],
        [`/hosts/${host.id}`, "host detail (downloads, no changes)"],
        ["/audit", "audit log"],
        ["/account", "account"],
      ],
      viewer: [
        ["/hosts", "host list"],
        [`/hosts/${host.id}`, "host detail (read only)"],
        ["/account", "account"],
        ["/users", "403 page", 403],
      ],
    };
    for (const [role, list] of Object.entries(pages) as [Exclude<Role, "admin">, (typeof pages)["viewer"]][]) {
      const { page, close } = await pageAs(browser, request, baseURL!, role, js);
      try {
        for (const [path, what, status] of list) await visitAndCheck(page, path, `${what} as ${role}`, status);
      } finally {
        await close();
      }
    }
  });

  test("Two-factor enrolment, the recovery codes and the TOTP sign-in step have no serious violations", async ({ page, request }) => {
    const token = await sharedAdminAccessToken(request);
    const user = { email: `a11y-mfa-${Date.now()}-${Math.floor(Math.random() * 1e6)}@e2e.test`, password: "pw-a11y-correct-horse" };
    await trpcMutation(request, token, "users.create", { ...user, role: "viewer" });
    await signIn(page, user, "/account");
    const mfa = page.locator("#mfa");
    await mfa.getByRole("button", { name: "Set up" }).click();
    await expect(mfa.getByRole("img", { name: "QR code" })).toBeVisible();
    await expectAccessible(page, "MFA enrolment with its QR code");
    const secret = (await page.getByTestId("totp-secret").textContent())?.trim() ?? "";
    await page.getByLabel("Code from the app").fill(currentTotpCode(secret) === "000000" ? "111111" : "000000");
    await page.getByRole("button", { name: "Confirm and turn on" }).click();
    await expect(mfa.getByRole("alert")).toBeVisible();
    await expectAccessible(page, "MFA enrolment with a wrong code");
    await page.getByLabel("Code from the app").fill(currentTotpCode(secret));
    await page.getByRole("button", { name: "Confirm and turn on" }).click();
    await expect(page.getByTestId("recovery-codes")).toBeVisible();
    await expectAccessible(page, "MFA on, recovery codes shown once");
    await visitAndCheck(page, "/account", "account with MFA on");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.goto("/login");
    await page.getByLabel("Email").fill(user.email);
    await page.getByLabel("Password").fill(user.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByLabel("Code")).toBeVisible();
    await expectAccessible(page, "TOTP sign-in step");
    await page.getByLabel("Code").fill("000000");
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(page.getByRole("alert")).toBeVisible();
    await expectAccessible(page, "TOTP sign-in step with a wrong code");
  });
});

test.describe("keyboard, errors and progress", () => {
  test.use({
    storageState: async ({ browser, baseURL }, use) => {
      await use(await sharedStorageState(browser, baseURL!));
    },
  });

  test("The first Tab lands in the main navigation, on every kind of page", async ({ page }) => {
    for (const path of ["/hosts", "/hosts/new", "/audit", "/account", "/settings"]) {
      await page.goto(path);
      await page.locator("body").focus();
      await page.keyboard.press("Tab");
      const focused = page.locator(":focus");
      const inNavOrSkip = await focused.evaluate(
        (el) => Boolean(el.closest('nav[aria-label="Main"]')) || (el.getAttribute("href") ?? "").startsWith("#main"),
      );
      expect.soft(inNavOrSkip, `${path}: first Tab focused ${await focused.evaluate((el) => el.outerHTML.slice(0, 120))}`).toBe(true);
    }
  });

  test("Tab walks the host form's fields in the order they are shown", async ({ page }) => {
    await page.goto("/hosts/new");
    const stops = (await tabStops(page, 30)).filter((s) => s.inForm);
    expect(stops.map((s) => s.label)).toEqual(expect.arrayContaining(["Hostname", "IP address", "Port", "Notes"]));
    // Reading order: top to bottom, and left to right within a row (rows differ by > 4 px).
    for (let i = 1; i < stops.length; i++) {
      const [before, after] = [stops[i - 1]!, stops[i]!];
      const inOrder = after.top > before.top + 4 || (Math.abs(after.top - before.top) <= 4 && after.left > before.left);
      expect.soft(inOrder, `${before.label} (${before.top},${before.left}) then ${after.label} (${after.top},${after.left})`).toBe(true);
    }
  });

  test("Field errors are tied to their fields: aria-invalid and an accessible description", async ({ page, request }) => {
    await page.goto("/hosts/new");
    await page.getByLabel("Hostname", { exact: true }).fill("not a hostname");
    await page.getByRole("button", { name: "Create host" }).click();
    const hostname = page.getByLabel("Hostname", { exact: true });
    await expect(hostname).toHaveAttribute("aria-invalid", "true");
    await expect(hostname).toHaveAccessibleDescription(/Hostname may only contain/);
    await expect(page.getByLabel("IP address", { exact: true })).not.toHaveAttribute("aria-invalid", "true");

    try {
      await page.goto("/settings");
      await page.getByLabel("Query timeout (seconds)", { exact: true }).fill("0");
      await page.getByRole("button", { name: "Save", exact: true }).click();
      const timeout = page.getByLabel("Query timeout (seconds)", { exact: true });
      await expect(timeout).toHaveAttribute("aria-invalid", "true");
      await expect(timeout).toHaveAccessibleDescription(/Enter a number from 0\.1 to 60 seconds\./);
    } finally {
      await updateSettingsViaApi(request, { "prometheus.timeoutMs": 5_000 });
    }

    // Values the browser's own checks let through (required, type=email), refused by the server.
    await page.goto("/users");
    await page.getByLabel("Email", { exact: true }).fill("a11y@localhost");
    await page.getByRole("button", { name: "Create user" }).click();
    const email = page.getByLabel("Email", { exact: true });
    await expect(email).toHaveAttribute("aria-invalid", "true");
    await expect(email).toHaveAccessibleDescription(/\S/);

    await page.goto("/account");
    await page.getByLabel("Token name").fill("   ");
    await page.getByRole("button", { name: "Create token" }).click();
    const name = page.getByLabel("Token name");
    await expect(name).toHaveAttribute("aria-invalid", "true");
    await expect(name).toHaveAccessibleDescription(/\S/);
  });

  test("Upload progress bars have an accessible name while a file is sent", async ({ page, request }, testInfo) => {
    test.skip(!jsEnabled(testInfo.project.name), "progress bars exist only with JavaScript (without it the browser's own upload indicator is all there is)");
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 64 * 1024 });

    const tag = `a11y-prog-${Date.now().toString(36)}`;
    const rows = Array.from({ length: 3000 }, (_, i) => `${tag}-${i}.e2e.test,10.6.${i >> 8}.${i & 255}`);
    await page.goto("/hosts/import");
    await waitForEnhanced(page, "import-form").catch(() => undefined);
    await page.getByLabel("CSV file").setInputFiles(csvFile("progress.csv", ["hostname,ip", ...rows]));
    await page.getByRole("button", { name: "Dry run" }).click();
    await expect(page.getByRole("progressbar", { name: "Upload progress" })).toBeVisible();
    await expectAccessible(page, "import while uploading");
    await page.getByRole("button", { name: "Cancel" }).click();

    const host = await trpcMutation<{ id: number }>(request, await sharedAdminAccessToken(request), "hosts.create", {
      hostname: uniqueHostname("a11y-prog"),
    });
    await page.goto(`/hosts/${host.id}`);
    await waitForEnhanced(page, "artifact-upload");
    await page.getByLabel("Upload a file").setInputFiles({ name: "big.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(256 * 1024, 7) });
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    await expect(page.getByRole("progressbar", { name: /upload/i })).toBeVisible();
    await expectAccessible(page, "host detail while an artifact uploads");
  });
});
