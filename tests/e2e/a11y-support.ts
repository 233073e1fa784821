import AxeBuilder from "@axe-core/playwright";
import type { APIRequestContext, Page } from "@playwright/test";
import type { AxeResults, Result } from "axe-core";
import { HEALTHY_NODE_RESULTS, startPrometheusStub } from "../support/prometheus-stub";
import { expect, jsEnabled, test } from "./fixtures";
import { createHostViaApi, type E2eHost, trpcMutation, uniqueHostname, updateSettingsViaApi, uploadArtifactViaApi } from "./helpers";

/*
 * Helpers of tests/e2e/a11y.spec.ts: one axe run per page state, reported in full, and the
 * data a page needs to show every panel it has.
 */

/** WCAG 2.0 and 2.1, levels A and AA, plus axe's best practices. */
export const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"];

const BLOCKING = new Set(["serious", "critical"]);

/**
 * axe in legacy mode: one `axe.run` inside the page. The default mode runs axe in every
 * frame and then finishes in a new blank page of the context, opened and closed on each
 * call: ~1 s a check here, on pages without frames (OpsDesk has none) for nothing.
 */
const axeFor = (page: Page) =>
  new AxeBuilder({ page })
    .withTags(AXE_TAGS)
    .setLegacyMode()
    // Only violations are read: axe then skips the node details of passes and incompletes.
    .options({ resultTypes: ["violations"] });

/** One line per failing element: rule, impact, the element's selector and axe's summary of what to fix. */
export function describeViolations(violations: Result[]): string {
  return violations
    .flatMap((v) =>
      v.nodes.map(
        (node) =>
          `  [${v.impact ?? "?"}] ${v.id}: ${v.help}\n    at ${node.target.join(" ")}\n    ${(node.failureSummary ?? "").replace(/\n/g, "\n    ")}`,
      ),
    )
    .join("\n");
}

/**
 * axe is a script, and in a page whose JavaScript is off (the no-js project) its timers
 * never fire: it would hang. There, axe checks a copy: the DOM as the browser rendered it
 * without JavaScript, minus its (never run) scripts, loaded at the same address in a page
 * of its own where scripts may run, with the same viewport and colour scheme, the same
 * stylesheets fetched from the server. The selectors it reports are the original's.
 */
async function analyzeRenderedWithoutJs(page: Page): Promise<AxeResults> {
  const html = (await page.content()).replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, "");
  const dark = await page.evaluate(() => window.matchMedia("(prefers-color-scheme: dark)").matches);
  const copy = await copyPageFor(page);
  await copy.setViewportSize(page.viewportSize() ?? { width: 1280, height: 720 });
  await copy.emulateMedia({ colorScheme: dark ? "dark" : "light" });
  const url = page.url();
  if (url.startsWith("http")) {
    await copy.unrouteAll();
    await copy.route(url, (route) => route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: html }));
    await copy.goto(url);
  } else {
    await copy.setContent(html);
  }
  return axeFor(copy).analyze();
}

/**
 * One page with JavaScript for the whole worker, in a context of its own: a new context per
 * test cost ~2.5 s. It holds no session (the HTML is handed to it, the stylesheet is
 * inline), so nothing leaks between tests; viewport, colour scheme and route are set per check.
 */
let copyPage: Promise<Page> | undefined;
function copyPageFor(page: Page): Promise<Page> {
  const browser = page.context().browser()!;
  copyPage ??= browser.newContext({ javaScriptEnabled: true }).then((context) => context.newPage());
  return copyPage;
}

/** One axe run over the page as it is now, with the tags above. */
export function analyze(page: Page): Promise<AxeResults> {
  if (!jsEnabled(test.info().project.name)) return analyzeRenderedWithoutJs(page);
  return axeFor(page).analyze();
}

/**
 * Runs axe over the page as it is now and fails (softly: every page of a test is reported)
 * when a violation is serious or critical. Every violation found is printed, minor ones too.
 */
export async function expectAccessible(page: Page, what: string): Promise<AxeResults> {
  await page.waitForLoadState("load");
  if (jsEnabled(test.info().project.name) && page.url().startsWith("http")) {
    // With JavaScript, the DOM checked is the hydrated one a user ends up with (enhanced
    // widgets differ from their no-JS forms). React marks each element it has hydrated
    // with a __reactFiber$ key; <main> is inside the shell, so it is marked once the page is.
    await page.waitForFunction(
      () => {
        const main = document.querySelector("main");
        return Boolean(main && Object.keys(main).some((key) => key.startsWith("__reactFiber$")));
      },
      null,
      { timeout: 15_000 },
    );
  }
  const results = await analyze(page);
  if (results.violations.length > 0) {
    console.log(`axe on ${what} (${page.url()}):\n${describeViolations(results.violations)}`);
  }
  const blocking = results.violations.filter((v) => BLOCKING.has(v.impact ?? ""));
  expect.soft(describeViolations(blocking), `serious or critical axe violations on ${what}`).toBe("");
  return results;
}

/** Opens a path (expecting `status`) and checks it. */
export async function visitAndCheck(page: Page, path: string, what: string, status = 200): Promise<void> {
  const response = await page.goto(path);
  expect.soft(response?.status(), `${what}: HTTP status of ${path}`).toBe(status);
  await expectAccessible(page, what);
}

/**
 * A host with every panel filled: a metrics snapshot (from a Prometheus stub, the
 * prometheus.url setting put back to "" afterwards), two artifacts and a bastion, so the
 * SSH command has its -J.
 */
export async function hostWithEverything(request: APIRequestContext, token: string): Promise<E2eHost> {
  const host = await createHostViaApi(request, token, {
    hostname: uniqueHostname("a11y"),
    ip: "10.42.0.7",
    sshUser: "deploy",
    bastion: "jump.e2e.test",
    environment: "prod",
    os: "Debian 12",
    tags: ["web", "eu"],
    notes: "Rack 4, row 2",
  });
  for (const name of ["boot.log", "nginx.conf"]) {
    await uploadArtifactViaApi(request, token, host.id, { name, mimeType: "text/plain", buffer: Buffer.from(`${name}\n`) });
  }
  const stub = await startPrometheusStub({ kind: "results", results: HEALTHY_NODE_RESULTS });
  try {
    await updateSettingsViaApi(request, { "prometheus.url": stub.url });
    await trpcMutation(request, token, "metrics.update", { hostId: host.id });
  } finally {
    await updateSettingsViaApi(request, { "prometheus.url": "" });
    await stub.close();
  }
  return host;
}

export type FocusStop = { label: string; top: number; left: number; inForm: boolean };

/**
 * Presses Tab `count` times from the top of the page and returns what got focus each time:
 * its accessible-ish label (label text, aria-label or text) and its position on screen.
 */
export async function tabStops(page: Page, count: number, formSelector = "main form"): Promise<FocusStop[]> {
  await page.locator("body").focus();
  const stops: FocusStop[] = [];
  for (let i = 0; i < count; i++) {
    await page.keyboard.press("Tab");
    stops.push(
      await page.evaluate((selector) => {
        const el = document.activeElement as HTMLElement | null;
        if (!el || el === document.body) return { label: "(body)", top: -1, left: -1, inForm: false };
        const box = el.getBoundingClientRect();
        const input = el as HTMLInputElement;
        const label =
          input.labels?.[0]?.textContent?.trim() || el.getAttribute("aria-label") || el.textContent?.trim() || el.tagName;
        return { label, top: Math.round(box.top + window.scrollY), left: Math.round(box.left), inForm: Boolean(el.closest(selector)) };
      }, formSelector),
    );
  }
  return stops;
}
