import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { makeTempDir } from "../support/temp-dir";
import { type FleetApp, signInWithForm, startFleetApp } from "./lighthouse-fleet";
import { type Chromium, type LighthouseFigures, launchChromium, measurePage } from "./lighthouse-run";
import { saveStaticCopy, startStaticServer } from "./lighthouse-static-copy";

/**
 * Lighthouse over the key pages (issue 16.3) on the realistic fleet, signed in as the
 * admin through the login form: mobile emulation, simulated Slow 4G, 4× CPU slowdown
 * (Lighthouse's mobile defaults), performance and accessibility. Each page is measured
 * beside a static copy of itself from the same run (its server-rendered HTML without
 * scripts, with its inlined stylesheet, from a node:http server): the copy is what the same
 * content costs to paint with no JavaScript and no server work, so FCP is judged as a ratio
 * to it rather than as an absolute that depends on this machine's speed.
 *
 * LIGHTHOUSE_RUNS runs per page and copy (default 3), interleaved, app first on even runs;
 * each figure printed is the median of its runs, taken figure by figure. LIGHTHOUSE_PAGES
 * picks pages by path, LIGHTHOUSE_SAVE=<dir> keeps each run's report.
 */

const LIGHTHOUSE_VERSION = (createRequire(import.meta.url)("lighthouse/package.json") as { version: string }).version;
const RUNS = Number(process.env.LIGHTHOUSE_RUNS ?? 3);
/** LIGHTHOUSE_PAGES=/hosts,/hosts/:id measures only those paths (when working on one page). */
const ONLY_PAGES = process.env.LIGHTHOUSE_PAGES?.split(",").map((p) => p.trim());
const GOALS = { perf: 0.95, tbtMs: 100, fcpRatio: 1.3, a11y: 0.95 } as const;

type Page = { name: string; path: string; signedIn: boolean };
type Measured = { page: Page; app: LighthouseFigures; copy: LighthouseFigures; appRuns: LighthouseFigures[] };

export async function run(): Promise<void> {
  const started = performance.now();
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const fleet = await startFleetApp();
    cleanups.unshift(fleet.stop);
    console.log(`fleet: ${fleet.hostCount.toLocaleString("en-US")} hosts, ${fleet.auditEventCount.toLocaleString("en-US")} audit events, seeded in ${(fleet.seedMs / 1000).toFixed(1)} s`);
    const copies = makeTempDir("opsdesk-lighthouse-copies-");
    cleanups.push(async () => rmSync(copies, { recursive: true, force: true }));
    const copyServer = await startStaticServer(copies);
    cleanups.unshift(copyServer.close);
    const chrome = await launchChromium();
    cleanups.unshift(chrome.stop);

    const pages: Page[] = [
      { name: "/login", path: "/login", signedIn: false },
      { name: "/hosts (10,000 hosts)", path: "/hosts", signedIn: true },
      { name: "/hosts/:id (metrics, 100 artifacts)", path: `/hosts/${fleet.artifactHostId}`, signedIn: true },
      { name: "/audit (100,000 events)", path: "/audit", signedIn: true },
      { name: "/hosts/import", path: "/hosts/import", signedIn: true },
    ].filter((page) => !ONLY_PAGES || ONLY_PAGES.includes(page.path.replace(/\/\d+$/, "/:id")));
    // Chromium's first run pays for its own start-up (compiling, caches): not a page's cost.
    await measurePage(chrome, `${fleet.baseURL}/login`);
    console.log(`Lighthouse ${LIGHTHOUSE_VERSION}: mobile, simulated Slow 4G, 4x CPU; median of ${RUNS} interleaved runs per page and copy, figure by figure`);

    const results: Measured[] = [];
    for (const [index, page] of pages.entries()) {
      results.push(await measureWithCopy(chrome, fleet, page, `page-${index}`, copies, copyServer.url));
    }
    printTable(results);
    printGoals(results);
    console.log(`\nbench took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((error) => console.error("cleanup failed:", error));
  }
}

async function measureWithCopy(chrome: Chromium, fleet: FleetApp, page: Page, copyName: string, copies: string, copyBase: string): Promise<Measured> {
  // A fresh sign-in for each page: the access token lives 10 minutes, and Lighthouse keeps
  // sending the header it was given.
  const cookie = page.signedIn ? await signInWithForm(fleet) : undefined;
  const appUrl = `${fleet.baseURL}${page.path}`;
  await saveStaticCopy(appUrl, cookie, copies, copyName);
  const copyUrl = `${copyBase}/${copyName}`;
  const appRuns: LighthouseFigures[] = [];
  const copyRuns: LighthouseFigures[] = [];
  for (let i = 0; i < RUNS; i++) {
    if (i % 2 === 0) {
      appRuns.push(await measurePage(chrome, appUrl, cookie));
      copyRuns.push(await measurePage(chrome, copyUrl));
    } else {
      copyRuns.push(await measurePage(chrome, copyUrl));
      appRuns.push(await measurePage(chrome, appUrl, cookie));
    }
  }
  return { page, app: medianFigures(appRuns), copy: medianFigures(copyRuns), appRuns };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Each figure's median over the runs; the failing audits are the median-perf run's. */
function medianFigures(runs: LighthouseFigures[]): LighthouseFigures {
  const of = (pick: (f: LighthouseFigures) => number) => median(runs.map(pick));
  const byPerf = [...runs].sort((a, b) => a.perf - b.perf);
  return {
    perf: of((f) => f.perf),
    fcpMs: of((f) => f.fcpMs),
    lcpMs: of((f) => f.lcpMs),
    tbtMs: of((f) => f.tbtMs),
    cls: of((f) => f.cls),
    a11y: of((f) => f.a11y),
    transferBytes: of((f) => f.transferBytes),
    failing: byPerf[Math.floor(byPerf.length / 2)]!.failing,
  };
}

const cells = (f: LighthouseFigures): string =>
  [
    f.perf.toFixed(2).padStart(5),
    `${f.fcpMs.toFixed(0)} ms`.padStart(8),
    `${f.lcpMs.toFixed(0)} ms`.padStart(8),
    `${f.tbtMs.toFixed(0)} ms`.padStart(7),
    f.cls.toFixed(3).padStart(6),
    f.a11y.toFixed(2).padStart(5),
    `${(f.transferBytes / 1024).toFixed(1)} KiB`.padStart(10),
  ].join(" ");

function printTable(results: Measured[]): void {
  const header = ["perf", "FCP", "LCP", "TBT", "CLS", "a11y", "transfer"];
  const widths = [5, 8, 8, 7, 6, 5, 10];
  for (const { page, app, copy } of results) {
    console.log(`\n  ${page.name}`);
    console.log(`    ${"".padEnd(12)} ${header.map((h, i) => h.padStart(widths[i]!)).join(" ")}`);
    console.log(`    ${"app".padEnd(12)} ${cells(app)}`);
    console.log(`    ${"static copy".padEnd(12)} ${cells(copy)}`);
    console.log(`    FCP app/static ${(app.fcpMs / copy.fcpMs).toFixed(2)}x`);
  }
}

function printGoals(results: Measured[]): void {
  console.log(`\n  goals: perf >= ${GOALS.perf}, TBT <= ${GOALS.tbtMs} ms, FCP <= ${GOALS.fcpRatio}x static, a11y >= ${GOALS.a11y}`);
  for (const { page, app, copy, appRuns } of results) {
    const fcpRatio = app.fcpMs / copy.fcpMs;
    const checks = [
      { label: `perf ${app.perf.toFixed(2)}`, ok: app.perf >= GOALS.perf },
      { label: `TBT ${app.tbtMs.toFixed(0)} ms`, ok: app.tbtMs <= GOALS.tbtMs },
      { label: `FCP ${fcpRatio.toFixed(2)}x`, ok: fcpRatio <= GOALS.fcpRatio },
      { label: `a11y ${app.a11y.toFixed(2)}`, ok: app.a11y >= GOALS.a11y },
    ];
    const verdicts = checks.map((c) => `${c.label} ${c.ok ? "PASS" : "MISS"}`).join("  ");
    console.log(`  ${page.name.padEnd(36)} ${verdicts}  (perf by run: ${appRuns.map((r) => r.perf.toFixed(2)).join(", ")})`);
    if (checks.some((c) => !c.ok)) {
      for (const audit of app.failing.slice(0, 5)) {
        const score = audit.score === null ? "–" : audit.score.toFixed(2);
        console.log(`      ${audit.id} (${score}): ${audit.title}${audit.detail ? `, ${audit.detail}` : ""}${audit.savingsMs ? `, saves ~${audit.savingsMs} ms` : ""}`);
      }
    }
  }
}
