import { test as base, expect } from "@playwright/test";

/** Every e2e test: skipped, with the reason printed, when no Chromium exists. */
export const test = base.extend({});
test.beforeEach(({ browserName: _ }, testInfo) => {
  const reason = "No Chromium found: set CHROMIUM_PATH or install Debian's chromium package";
  testInfo.skip(!process.env.OPSDESK_E2E_BROWSER, reason);
});

export { expect };

export const jsEnabled = (projectName: string) => projectName === "js";
