import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";

/**
 * One headless Chromium and Lighthouse runs on it, with Lighthouse's mobile defaults
 * (formFactor mobile, simulated Slow 4G: 150 ms RTT, 1.6 Mbit/s down, 4× CPU slowdown),
 * the performance and accessibility categories only.
 */

/** The flags the e2e suite gives Chromium (playwright.config.ts), headless. */
const CHROMIUM_FLAGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export type Chromium = { port: number; stop: () => Promise<void> };

export async function launchChromium(): Promise<Chromium> {
  const chromePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  const chrome = await chromeLauncher.launch({ chromePath, chromeFlags: CHROMIUM_FLAGS, logLevel: "silent" });
  return {
    port: chrome.port,
    stop: async () => {
      chrome.kill();
    },
  };
}

export type FailingAudit = { id: string; title: string; score: number | null; savingsMs?: number; detail?: string };

export type LighthouseFigures = {
  perf: number;
  fcpMs: number;
  lcpMs: number;
  tbtMs: number;
  cls: number;
  a11y: number;
  transferBytes: number;
  /** Audits under 0.9 (or with time to save) in either category, worst first. */
  failing: FailingAudit[];
};

type Audit = {
  id: string;
  title: string;
  score: number | null;
  scoreDisplayMode: string;
  numericValue?: number;
  displayValue?: string;
  metricSavings?: { LCP?: number; FCP?: number; TBT?: number };
};
type Category = { score: number | null; auditRefs: { id: string; weight: number }[] };
type Lhr = { audits: Record<string, Audit>; categories: Record<string, Category>; runtimeError?: { code: string; message: string }; finalDisplayedUrl: string };

/**
 * One Lighthouse run of `url`; `cookie` is sent with every request (extraHeaders), so a
 * signed-in page is measured without Lighthouse's storage reset signing it out. The
 * screenshot audits are skipped: no figure here uses them, and they cost seconds a run.
 */
export async function measurePage(chrome: Chromium, url: string, cookie?: string): Promise<LighthouseFigures> {
  try {
    return await measureOnce(chrome, url, cookie);
  } catch (error) {
    // Lighthouse's trace recording fails now and then on a loaded machine (NO_NAVSTART:
    // "run Lighthouse again"): one more try, said aloud, before the bench gives up.
    console.log(`  (retrying ${url}: ${error instanceof Error ? error.message : String(error)})`);
    return measureOnce(chrome, url, cookie);
  }
}

async function measureOnce(chrome: Chromium, url: string, cookie?: string): Promise<LighthouseFigures> {
  const result = await lighthouse(url, {
    port: chrome.port,
    output: "json",
    logLevel: "error",
    onlyCategories: ["performance", "accessibility"],
    skipAudits: ["screenshot-thumbnails", "final-screenshot"],
    disableFullPageScreenshot: true,
    extraHeaders: cookie ? { Cookie: cookie } : undefined,
  });
  const lhr = result?.lhr as unknown as Lhr | undefined;
  if (!lhr) throw new Error(`Lighthouse gave no result for ${url}`);
  if (lhr.runtimeError) throw new Error(`Lighthouse could not measure ${url}: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
  if (process.env.LIGHTHOUSE_SAVE) saveReport(process.env.LIGHTHOUSE_SAVE, url, result?.report);
  const value = (id: string) => lhr.audits[id]?.numericValue ?? Number.NaN;
  return {
    perf: lhr.categories.performance?.score ?? Number.NaN,
    fcpMs: value("first-contentful-paint"),
    lcpMs: value("largest-contentful-paint"),
    tbtMs: value("total-blocking-time"),
    cls: value("cumulative-layout-shift"),
    a11y: lhr.categories.accessibility?.score ?? Number.NaN,
    transferBytes: value("total-byte-weight"),
    failing: failingAudits(lhr),
  };
}

/** What Lighthouse would fix first: scored audits below 0.9, and opportunities with time to save. */
function failingAudits(lhr: Lhr): FailingAudit[] {
  const ids = new Set(Object.values(lhr.categories).flatMap((c) => c.auditRefs.map((r) => r.id)));
  const failing: FailingAudit[] = [];
  for (const id of ids) {
    const audit = lhr.audits[id];
    if (!audit || audit.scoreDisplayMode === "notApplicable" || audit.scoreDisplayMode === "manual" || audit.scoreDisplayMode === "informative") continue;
    const savings = audit.metricSavings ? Math.max(audit.metricSavings.LCP ?? 0, audit.metricSavings.FCP ?? 0, audit.metricSavings.TBT ?? 0) : 0;
    if ((audit.score !== null && audit.score < 0.9) || savings > 0) {
      failing.push({ id, title: audit.title, score: audit.score, savingsMs: savings || undefined, detail: audit.displayValue });
    }
  }
  return failing.sort((a, b) => (a.score ?? 1) - (b.score ?? 1) || (b.savingsMs ?? 0) - (a.savingsMs ?? 0));
}

/** LIGHTHOUSE_SAVE=<dir>: each run's whole report, to read which tasks made up TBT (`long-tasks`, `bootup-time`). */
function saveReport(dir: string, url: string, report: string | string[] | undefined): void {
  if (typeof report !== "string") return;
  mkdirSync(dir, { recursive: true });
  const name = `${new URL(url).pathname.replace(/[^a-z0-9]+/gi, "-")}-${Date.now()}.json`;
  writeFileSync(path.join(dir, name), report);
}
