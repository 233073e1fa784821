import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Capability, ROLES, type Role, roleCan } from "../../server/auth/roles";
import type { SessionUser } from "../../server/auth/session-user";
import { appRouter } from "../../server/trpc/root";
import { createUser } from "../../server/services/users.service";
import { testConfig } from "../support/config";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { callerAs } from "../support/trpc-context";

/**
 * What each procedure requires. Every procedure in the router must have an entry: a new
 * procedure without one fails this test, so its authorization is decided on purpose.
 */
const REQUIRED: Record<string, "public" | "signed-in" | Capability> = {
  "system.info": "public",
  "auth.login": "public",
  "auth.verifyMfa": "public",
  "auth.refresh": "public",
  "auth.logout": "signed-in",
  "auth.me": "signed-in",
  "account.changePassword": "signed-in",
  "account.mfa.begin": "signed-in",
  "account.mfa.confirm": "signed-in",
  "account.mfa.disable": "signed-in",
  "account.tokens.create": "signed-in",
  "account.tokens.list": "signed-in",
  "account.tokens.revoke": "signed-in",
  "users.list": "admin.manage",
  "users.create": "admin.manage",
  "users.update": "admin.manage",
  "users.resetMfa": "admin.manage",
  "settings.get": "admin.manage",
  "settings.update": "admin.manage",
  "hosts.list": "hosts.view",
  "hosts.facets": "hosts.view",
  "hosts.get": "hosts.view",
  "hosts.getByHostname": "hosts.view",
  "hosts.create": "hosts.write",
  "hosts.update": "hosts.write",
  "hosts.delete": "hosts.write",
  "hosts.importCsv": "hosts.write",
  "hosts.applyImport": "hosts.write",
  "hosts.startApplyImport": "hosts.write",
  "hosts.importStatus": "hosts.write",
  "hosts.sshCommand": "hosts.view",
  "hosts.recordSshCopy": "hosts.view",
  "metrics.update": "metrics.update",
  "metrics.latest": "hosts.view",
  "metrics.history": "hosts.view",
  "metrics.lastExpiredAt": "hosts.view",
  "settings.testPrometheus": "admin.manage",
  "artifacts.list": "hosts.view",
  "artifacts.delete": "artifacts.write",
  "audit.list": "audit.view",
  "audit.verify": "audit.view",
};

let db: TestDatabase;
const users = new Map<Role, SessionUser>();
const procedures = Object.keys(appRouter._def.procedures).sort();

beforeAll(async () => {
  db = await createTestDatabase();
  const config = testConfig();
  for (const role of ROLES) {
    const { user } = await createUser(
      db.orm.em.fork(),
      config,
      { id: null, email: "setup" },
      { email: `${role}@matrix.test`, role, password: "matrix-password-123" },
      { ip: null, userAgent: null, requestId: null },
    );
    users.set(role, { id: user.id, email: user.email, role, mfaEnabled: false });
  }
});
afterAll(async () => {
  await db.drop();
});

async function outcome(path: string, user: SessionUser | null): Promise<"allowed" | "UNAUTHORIZED" | "FORBIDDEN"> {
  const caller = callerAs(db, user) as unknown as Record<string, unknown>;
  const fn = path.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as (
    input: unknown,
  ) => Promise<unknown>;
  try {
    // Deliberately invalid input: authorization is checked before input validation, so
    // an allowed call ends in BAD_REQUEST (or succeeds), a refused one in 401/403.
    await fn({ __matrix: true });
    return "allowed";
  } catch (error) {
    if (error instanceof TRPCError && (error.code === "UNAUTHORIZED" || error.code === "FORBIDDEN")) return error.code;
    return "allowed";
  }
}

describe("the authorization matrix, generated from the router", () => {
  test("every procedure has an entry in the matrix", () => {
    expect(procedures.filter((p) => !(p in REQUIRED))).toEqual([]);
    expect(Object.keys(REQUIRED).filter((p) => !procedures.includes(p))).toEqual([]);
  });

  for (const path of procedures) {
    test(`${path}: anonymous and each role get what the roles table says`, async () => {
      const required = REQUIRED[path]!;
      const anonymous = await outcome(path, null);
      expect(anonymous).toBe(required === "public" ? "allowed" : "UNAUTHORIZED");
      for (const role of ROLES) {
        const expected =
          required === "public" || required === "signed-in" || roleCan(role, required) ? "allowed" : "FORBIDDEN";
        expect({ role, outcome: await outcome(path, users.get(role)!) }).toEqual({ role, outcome: expected });
      }
    });
  }

  test("a refused call is audited as ACCESS_DENIED", async () => {
    await outcome("users.list", users.get("viewer")!);
    const rows = await db.orm.em
      .fork()
      .execute("select target_id, actor_email from audit_events where action = 'ACCESS_DENIED' and target_id = 'users.list'");
    expect(rows.length).toBeGreaterThan(0);
  });
});
