import { readFile } from "node:fs/promises";
import type { Page } from "@playwright/test";
import { expect, jsEnabled, test } from "./fixtures";
import { ADMIN, accessTokenFor, createUserViaApi, csvFile, signIn } from "./helpers";

/*
 * The CSV import at /hosts/import, with JavaScript (the dry run is sent by
 * XMLHttpRequest to /hosts/import/upload, with a progress bar) and without (a plain
 * multipart form post). Tests share one database: every hostname carries a unique tag.
 * Each test signs in once (the login limit is shared by the whole e2e run).
 */

const uniqueTag = (projectName: string) =>
  `imp-${jsEnabled(projectName) ? "js" : "nojs"}-${Date.now()}-${Math.floor(Math.random() * 1e4)}`;

/** Submits the dry-run form and waits for the result page of the stored run. */
async function dryRun(page: Page, js: boolean) {
  // With JavaScript the body goes to the upload route (progress bar), without to the page.
  const sent = page.waitForRequest((r) => r.method() === "POST" && new URL(r.url()).pathname === (js ? "/hosts/import/upload" : "/hosts/import"));
  await page.getByRole("button", { name: "Dry run" }).click();
  await sent;
  await expect(page).toHaveURL(/\/hosts\/import\?run=[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { name: "Dry run result" })).toBeVisible();
}

async function expectCounts(page: Page, counts: { create: number; update: number; unchanged: number; errors: number }) {
  for (const [key, value] of Object.entries(counts)) {
    await expect(page.getByTestId(`count-${key}`), `${key} count`).toHaveText(String(value));
  }
}

function previewRow(page: Page, hostname: string) {
  return page.getByRole("table", { name: "Preview" }).getByRole("row").filter({ hasText: hostname });
}

async function expectHostListed(page: Page, hostname: string) {
  await page.goto(`/hosts?q=${encodeURIComponent(hostname)}`);
  await expect(page.getByRole("row").filter({ hasText: hostname })).toHaveCount(1);
}

test("A file with an error: the report downloads; the fixed file applies, re-imports unchanged, and an edit shows as an update", async ({
  page,
  request,
}, testInfo) => {
  const js = jsEnabled(testInfo.project.name);
  const tag = uniqueTag(testInfo.project.name);
  const [a, b, c, d] = ["a", "b", "c", "d"].map((n) => `${tag}-${n}.e2e.test`);
  const header = "hostname,ip,port,environment,tags";
  const good = [`${a},10.9.0.1,22,prod,web;e2e`, `${b},10.9.0.2,22,prod,db`, `${c},10.9.0.3,2222,staging,`];

  await signIn(page, ADMIN, "/hosts/import");
  await expect(page.getByRole("heading", { name: "Import hosts from CSV" })).toBeVisible();
  await expect(page.getByText("File format: columns and an example")).toBeVisible();

  // 3 new hosts and 1 error (line 5, port 99999).
  await page.getByLabel("CSV file").setInputFiles(csvFile("hosts-bad.csv", [header, ...good, `${d},10.9.0.4,99999,prod,`]));
  await dryRun(page, js);
  await expectCounts(page, { create: 3, update: 0, unchanged: 0, errors: 1 });
  await expect(page.getByText("hosts-bad.csv")).toBeVisible();
  for (const host of [a, b, c]) await expect(previewRow(page, host)).toContainText("create");
  const errorRow = page.getByRole("table", { name: "Errors" }).getByRole("row").filter({ hasText: "Port must be" });
  await expect(errorRow.getByRole("cell")).toHaveText(["5", "port", "Port must be a whole number from 1 to 65535"]);
  await expect(page.getByText("Nothing will be written until the file is fixed")).toBeVisible();
  await expect(page.getByRole("button", { name: /^Apply/ })).toHaveCount(0);

  // The error report.
  const downloading = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download error report (CSV)" }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe("import-errors.csv");
  const report = await readFile(await download.path(), "utf8");
  expect(report).toBe("line,column,message\r\n5,port,Port must be a whole number from 1 to 65535\r\n");

  // Only the run's owner gets it: another user (and an unknown run) get 404.
  const reportUrl = new URL(page.url()).searchParams.get("run");
  const operator = await createUserViaApi(request, "operator");
  const operatorToken = await accessTokenFor(request, operator);
  const stranger = await request.get(`/hosts/import/${reportUrl}/errors.csv`, {
    headers: { authorization: `Bearer ${operatorToken}` },
  });
  expect(stranger.status()).toBe(404);
  const unknown = await page.request.get("/hosts/import/00000000-0000-4000-8000-000000000000/errors.csv");
  expect(unknown.status()).toBe(404);

  // The fixed file: no errors, 4 creates, then apply.
  const fixed = csvFile("hosts-fixed.csv", [header, ...good, `${d},10.9.0.4,22,prod,`]);
  await page.getByLabel("CSV file").setInputFiles(fixed);
  await dryRun(page, js);
  await expectCounts(page, { create: 4, update: 0, unchanged: 0, errors: 0 });
  await expect(page.getByRole("table", { name: "Errors" })).toHaveCount(0);
  await page.getByRole("button", { name: "Apply 4 changes" }).click();
  await expect(page).toHaveURL(/\/hosts\/import\?run=[0-9a-f-]{36}&applied=1$/);
  await expect(page.getByRole("status")).toContainText("The import was applied: 4 hosts created, 0 hosts updated");
  await expect(page.getByRole("button", { name: /^Apply/ })).toHaveCount(0);
  await page.getByRole("link", { name: "Go to the host list" }).click();
  await expect(page).toHaveURL(/\/hosts$/);
  for (const host of [a, d]) await expectHostListed(page, host);

  // The same file again: every row unchanged, nothing to apply.
  await page.goto("/hosts/import");
  await page.getByLabel("CSV file").setInputFiles(fixed);
  await dryRun(page, js);
  await expectCounts(page, { create: 0, update: 0, unchanged: 4, errors: 0 });
  for (const host of [a, b, c, d]) await expect(previewRow(page, host)).toContainText("unchanged");
  await expect(page.getByText("there is nothing to apply")).toBeVisible();
  await expect(page.getByRole("button", { name: /^Apply/ })).toHaveCount(0);

  // One field changed: an update naming the field.
  await page.getByLabel("CSV file").setInputFiles(
    csvFile("hosts-edit.csv", [header, good[0], `${b},10.9.1.2,22,prod,db`, good[2], `${d},10.9.0.4,22,prod,`]),
  );
  await dryRun(page, js);
  await expectCounts(page, { create: 0, update: 1, unchanged: 3, errors: 0 });
  await expect(previewRow(page, b).getByRole("cell")).toHaveText(["3", b, "update", "ip"]);
  await page.getByRole("button", { name: "Apply 1 change" }).click();
  await expect(page.getByRole("status")).toContainText("0 hosts created, 1 host updated");
  await page.goto(`/hosts?q=${encodeURIComponent(b)}`);
  await expect(page.getByRole("row").filter({ hasText: b })).toContainText("10.9.1.2");
});

test("Pasted CSV with ; as the delimiter is checked and applied", async ({ page }, testInfo) => {
  const js = jsEnabled(testInfo.project.name);
  const tag = uniqueTag(testInfo.project.name);
  const [a, b] = ["a", "b"].map((n) => `${tag}-${n}.e2e.test`);
  await signIn(page, ADMIN, "/hosts/import");

  // Neither a file nor text: a clear refusal, with the status code.
  await page.getByRole("button", { name: "Dry run" }).click();
  await expect(page.getByRole("alert")).toHaveText("Error 400: Choose a CSV file or paste CSV text first.");

  await page
    .getByLabel("…or paste CSV")
    .fill(["hostname;ip;environment;tags;notes", `${a};10.9.2.1;prod;"web;eu";"Rack 4, row 2"`, `${b};10.9.2.2;dev;;`].join("\n"));
  await page.getByLabel("Delimiter").selectOption(";");
  await dryRun(page, js);
  await expect(page.getByText("Pasted text, 2 valid rows.")).toBeVisible();
  await expectCounts(page, { create: 2, update: 0, unchanged: 0, errors: 0 });
  await expect(previewRow(page, a)).toContainText("create");
  await expect(previewRow(page, b)).toContainText("create");
  await page.getByRole("button", { name: "Apply 2 changes" }).click();
  await expect(page.getByRole("status")).toContainText("The import was applied: 2 hosts created");
  await expectHostListed(page, a);
  await expect(page.getByRole("row").filter({ hasText: a })).toContainText("10.9.2.1");
  await expectHostListed(page, b);
});

test("A large file: with JavaScript the upload shows its progress and can be cancelled; without, the form post answers when done", async ({
  page,
}, testInfo) => {
  const js = jsEnabled(testInfo.project.name);
  const tag = uniqueTag(testInfo.project.name);
  const rows = Array.from({ length: 12_000 }, (_, i) => `${tag}-${i}.e2e.test,10.8.${i >> 8}.${i & 255},22,perf,bulk;e2e,Row ${i} of the large-file test`);
  const file = csvFile("hosts-large.csv", ["hostname,ip,port,environment,tags,notes", ...rows]); // ≈ 1 MB
  await signIn(page, ADMIN, "/hosts/import");

  // A slow uplink (about 4 s for this file), as on the ops links the page is built for.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  const throttle = (uploadThroughput: number) =>
    cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput });
  await throttle(256 * 1024);

  await page.getByLabel("CSV file").setInputFiles(file);
  if (js) {
    await page.getByRole("button", { name: "Dry run" }).click();
    const progress = page.getByTestId("upload-progress");
    await expect(progress.getByRole("status")).toHaveText(/^Uploading… \d+% \(\d+(\.\d)? (KB|MB) of 1\.\d MB\)$/);
    await expect(progress.getByRole("progressbar", { name: "Upload progress" })).toBeVisible();
    await page.getByRole("button", { name: "Cancel" }).click();
    await expect(page.getByRole("status")).toHaveText("Upload cancelled. Nothing was checked or stored.");
    await expect(progress).toHaveCount(0);
    await expect(page).toHaveURL(/\/hosts\/import$/);
    await throttle(-1);
  }
  await dryRun(page, js);
  await expectCounts(page, { create: 12_000, update: 0, unchanged: 0, errors: 0 });
  await expect(page.getByRole("button", { name: "Apply 12000 changes" })).toBeVisible();
  await expect(page.getByText("(first 100 of 12000 rows)")).toBeVisible();
});

test("Applying a large file shows its progress while it runs, then the result (JavaScript polls, without it the page refreshes)", async ({
  page,
}, testInfo) => {
  test.setTimeout(120_000);
  const js = jsEnabled(testInfo.project.name);
  const tag = uniqueTag(testInfo.project.name);
  const total = 20_000;
  const rows = Array.from({ length: total }, (_, i) => `${tag}-${i}.e2e.test,10.7.${i >> 8}.${i & 255},22,perf,bulk;e2e`);
  await signIn(page, ADMIN, "/hosts/import");
  await page.getByLabel("CSV file").setInputFiles(csvFile("hosts-apply-large.csv", ["hostname,ip,port,environment,tags", ...rows]));
  await dryRun(page, js);
  await expectCounts(page, { create: total, update: 0, unchanged: 0, errors: 0 });

  // The apply form answers as soon as the run is going: its page shows the bar meanwhile.
  const started = Date.now();
  await page.getByRole("button", { name: "Apply 20000 changes" }).click();
  await expect(page).toHaveURL(/\/hosts\/import\?run=[0-9a-f-]{36}&applied=1$/);
  const bar = page.getByRole("progressbar", { name: /^Applying: [\d,]+ of 20,000 rows$/ });
  await expect(bar).toBeVisible();
  await expect(page.getByTestId("import-progress").getByRole("status")).toHaveText(/^Applying: [\d,]+ of 20,000 rows$/);
  await expect(page.getByTestId("import-phase")).toBeVisible();
  // Without JavaScript a refresh reloads the page while the run goes on; with it, the
  // polling does that job and the refresh stays inert text inside <noscript>.
  await expect(page.locator('meta[http-equiv="refresh"][content="2"]')).toHaveCount(js ? 0 : 1);

  // Then, without a click, the result: polled with JavaScript, by the refresh without.
  await expect(page.getByRole("status")).toContainText(`The import was applied: ${total} hosts created, 0 hosts updated`, {
    timeout: 90_000,
  });
  testInfo.annotations.push({ type: "apply-to-result-ms", description: String(Date.now() - started) });
  await expect(bar).toHaveCount(0);
  await expect(page.getByTestId("import-progress")).toHaveCount(0);
  await expect(page.locator('meta[http-equiv="refresh"]')).toHaveCount(0);
  await expect(page.getByTestId("count-create")).toHaveText(String(total));
  await page.goto(`/hosts?q=${encodeURIComponent(`${tag}-19999.`)}`);
  await expect(page.getByRole("row").filter({ hasText: `${tag}-19999.e2e.test` })).toHaveCount(1);
});
