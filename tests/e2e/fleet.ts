import { readFileSync } from "node:fs";
import path from "node:path";
import type { Browser } from "@playwright/test";
import type { FleetFacts } from "../support/fleet-server";
import { sharedStorageState } from "./helpers";

/**
 * The realistic fleet the `fleet` project runs against (tests/support/fleet-server.ts):
 * 10,000 hosts, 100 artifacts and a metrics history on one host, 100,000 audit events.
 */
export function fleet(): FleetFacts {
  const dir = process.env.E2E_FLEET_DATA_DIR;
  if (!dir) throw new Error("E2E_FLEET_DATA_DIR is not set: run through playwright.config.ts (project fleet)");
  return JSON.parse(readFileSync(path.join(dir, "fleet.json"), "utf8")) as FleetFacts;
}

export type FleetRole = "admin" | "operator" | "auditor" | "viewer";

/** A signed-in storage state for the fleet's first user of `role` (one sign-in per role and run). */
export async function fleetStorageState(browser: Browser, role: FleetRole): Promise<string> {
  const facts = fleet();
  const user = facts.users.find((u) => u.role === role);
  if (!user) throw new Error(`the fleet has no ${role}`);
  return sharedStorageState(browser, facts.baseURL, { email: user.email, password: facts.password }, `fleet-${role}`);
}
