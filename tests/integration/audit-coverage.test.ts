import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { currentTotpCode } from "../../server/auth/primitives/totp";
import type { SessionUser } from "../../server/auth/session-user";
import { appRouter } from "../../server/trpc/root";
import { type AppServer, startAppServer, trpc } from "../support/app-server";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { HEALTHY_NODE_RESULTS, type PrometheusStub, startPrometheusStub } from "../support/prometheus-stub";
import { makeUser } from "../support/identity";
import { callerAs } from "../support/trpc-context";

/**
 * Every mutation procedure and every state-changing (or sensitive-read) route is performed
 * here, and the audit event it must leave is checked: actor, action and target. A new
 * mutation without a scenario fails the first test, so nothing changes state unaudited.
 */
let db: TestDatabase;
let app: AppServer;
let stub: PrometheusStub;
let admin: SessionUser & { password: string };
let operator: SessionUser & { password: string };

type Expected = { action: string; actorEmail: string; targetType: string | null; targetId: string | null };

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startAppServer(db);
  admin = { ...(await makeUser(db, app, "admin")), mfaEnabled: false };
  operator = { ...(await makeUser(db, app, "operator")), mfaEnabled: false };
  stub = await startPrometheusStub({ kind: "results", results: HEALTHY_NODE_RESULTS });
  await callerAs(db, admin, app.runtime).settings.update({ "prometheus.url": stub.url });
});
afterAll(async () => {
  await stub.close();
  await app.close();
  await db.drop();
});

const as = (user: SessionUser) => callerAs(db, user, app.runtime);

async function lastEvent(): Promise<Expected & { id: number }> {
  const [row] = await db.orm.em
    .fork()
    .execute<{ id: string; action: string; actor_email: string; target_type: string | null; target_id: string | null }[]>(
      "select id, action, actor_email, target_type, target_id from audit_events order by id desc limit 1",
    );
  return { id: Number(row!.id), action: row!.action, actorEmail: row!.actor_email, targetType: row!.target_type, targetId: row!.target_id };
}

async function login(user: { email: string; password: string }) {
  return (await trpc<{ accessToken: string; refreshToken: string; mfaToken?: string; status: string }>(app.url, "auth.login", {
    mutation: true,
    input: { email: user.email, password: user.password },
  })).data!;
}

async function newHost(name: string) {
  return as(operator).hosts.create({ hostname: `${name}-${Date.now()}.coverage.test` } as never);
}

/** Performs the mutation and says which event it must have written. */
const SCENARIOS: Record<string, () => Promise<Expected>> = {
  "auth.login": async () => {
    const user = await makeUser(db, app, "viewer");
    const session = await login(user);
    expect(session.status).toBe("ok");
    return { action: "LOGIN_SUCCEEDED", actorEmail: user.email, targetType: "user", targetId: String(user.id) };
  },
  "auth.verifyMfa": async () => {
    const user = await makeUser(db, app, "viewer");
    const self = { ...user, mfaEnabled: false };
    const { secret } = await as(self).account.mfa.begin();
    await as(self).account.mfa.confirm({ code: currentTotpCode(secret, new Date(Date.now() - 30_000)) });
    const { mfaToken } = await login(user);
    await as(self).auth.verifyMfa({ mfaToken: mfaToken!, code: currentTotpCode(secret) });
    return { action: "LOGIN_SUCCEEDED", actorEmail: user.email, targetType: "user", targetId: String(user.id) };
  },
  "auth.refresh": async () => {
    const user = await makeUser(db, app, "viewer");
    const { refreshToken } = await login(user);
    await as({ ...user, mfaEnabled: false }).auth.refresh({ refreshToken });
    const event = await lastEvent();
    return { action: "SESSION_REFRESHED", actorEmail: user.email, targetType: "session", targetId: event.targetId };
  },
  "auth.logout": async () => {
    await as(operator).auth.logout();
    return { action: "LOGOUT", actorEmail: operator.email, targetType: "session", targetId: null };
  },
  "account.changePassword": async () => {
    const user = await makeUser(db, app, "viewer");
    await as({ ...user, mfaEnabled: false }).account.changePassword({ currentPassword: user.password, newPassword: "another-long-password-1" });
    return { action: "PASSWORD_CHANGED", actorEmail: user.email, targetType: "user", targetId: String(user.id) };
  },
  "account.mfa.begin": async () => {
    const user = await makeUser(db, app, "viewer");
    await as({ ...user, mfaEnabled: false }).account.mfa.begin();
    return { action: "MFA_ENROLMENT_STARTED", actorEmail: user.email, targetType: "user", targetId: String(user.id) };
  },
  "account.mfa.confirm": async () => {
    const user = await makeUser(db, app, "viewer");
    const self = { ...user, mfaEnabled: false };
    const { secret } = await as(self).account.mfa.begin();
    await as(self).account.mfa.confirm({ code: currentTotpCode(secret) });
    return { action: "MFA_ENROLLED", actorEmail: user.email, targetType: "user", targetId: String(user.id) };
  },
  "account.mfa.disable": async () => {
    const user = await makeUser(db, app, "viewer");
    const self = { ...user, mfaEnabled: false };
    const { secret } = await as(self).account.mfa.begin();
    const { recoveryCodes } = await as(self).account.mfa.confirm({ code: currentTotpCode(secret) });
    await as(self).account.mfa.disable({ code: recoveryCodes[0]! });
    return { action: "MFA_DISABLED", actorEmail: user.email, targetType: "user", targetId: String(user.id) };
  },
  "account.tokens.create": async () => {
    const { id } = await as(operator).account.tokens.create({ name: "coverage", expiresInDays: 1 });
    return { action: "API_TOKEN_CREATED", actorEmail: operator.email, targetType: "api_token", targetId: id };
  },
  "account.tokens.revoke": async () => {
    const { id } = await as(operator).account.tokens.create({ name: "coverage-revoke", expiresInDays: 1 });
    await as(operator).account.tokens.revoke({ id });
    return { action: "API_TOKEN_REVOKED", actorEmail: operator.email, targetType: "api_token", targetId: id };
  },
  "users.create": async () => {
    const { user } = await as(admin).users.create({ email: `new-${Date.now()}@coverage.test`, role: "viewer" });
    return { action: "USER_CREATED", actorEmail: admin.email, targetType: "user", targetId: String(user.id) };
  },
  "users.update": async () => {
    const user = await makeUser(db, app, "viewer");
    await as(admin).users.update({ id: user.id, role: "auditor" });
    return { action: "USER_UPDATED", actorEmail: admin.email, targetType: "user", targetId: String(user.id) };
  },
  "users.resetMfa": async () => {
    const user = await makeUser(db, app, "viewer");
    await as(admin).users.resetMfa({ id: user.id });
    return { action: "MFA_RESET", actorEmail: admin.email, targetType: "user", targetId: String(user.id) };
  },
  "settings.update": async () => {
    await as(admin).settings.update({ "import.maxRows": 150_000 + Math.floor(Math.random() * 1000) });
    return { action: "SETTINGS_UPDATED", actorEmail: admin.email, targetType: "settings", targetId: null };
  },
  "hosts.create": async () => {
    const host = await newHost("create");
    return { action: "HOST_CREATED", actorEmail: operator.email, targetType: "host", targetId: String(host.id) };
  },
  "hosts.update": async () => {
    const host = await newHost("update");
    await as(operator).hosts.update({ id: host.id, version: host.version, port: 2022 });
    return { action: "HOST_UPDATED", actorEmail: operator.email, targetType: "host", targetId: String(host.id) };
  },
  "hosts.delete": async () => {
    const host = await newHost("delete");
    await as(operator).hosts.delete({ id: host.id, version: host.version });
    return { action: "HOST_DELETED", actorEmail: operator.email, targetType: "host", targetId: String(host.id) };
  },
  "hosts.importCsv": async () => {
    const result = await as(operator).hosts.importCsv({ csv: `hostname\nimp-${Date.now()}.coverage.test\n`, dryRun: true });
    return { action: "HOSTS_IMPORT_CHECKED", actorEmail: operator.email, targetType: "import", targetId: result.runId };
  },
  "hosts.applyImport": async () => {
    const dry = await as(operator).hosts.importCsv({ csv: `hostname\napply-${Date.now()}.coverage.test\n`, dryRun: true });
    await as(operator).hosts.applyImport({ runId: dry.runId });
    return { action: "HOSTS_IMPORTED", actorEmail: operator.email, targetType: "import", targetId: dry.runId };
  },
  "hosts.startApplyImport": async () => {
    const dry = await as(operator).hosts.importCsv({ csv: `hostname\nstart-${Date.now()}.coverage.test\n`, dryRun: true });
    await as(operator).hosts.startApplyImport({ runId: dry.runId });
    // The apply goes on after the call has answered: its event is there once the run is done.
    const deadline = Date.now() + 10_000;
    while ((await as(operator).hosts.importStatus({ runId: dry.runId })).running && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { action: "HOSTS_IMPORTED", actorEmail: operator.email, targetType: "import", targetId: dry.runId };
  },
  "hosts.recordSshCopy": async () => {
    const host = await newHost("ssh");
    await as({ ...operator, role: "viewer" }).hosts.recordSshCopy({ id: host.id });
    return { action: "SSH_COMMAND_COPIED", actorEmail: operator.email, targetType: "host", targetId: String(host.id) };
  },
  "metrics.update": async () => {
    const host = await newHost("metrics");
    await as(operator).metrics.update({ hostId: host.id });
    return { action: "METRICS_UPDATED", actorEmail: operator.email, targetType: "host", targetId: String(host.id) };
  },
  "artifacts.delete": async () => {
    const host = await newHost("artifact");
    const token = (await login(operator)).accessToken;
    const form = new FormData();
    form.set("file", new Blob([Buffer.from("bytes")]), "a.txt");
    const res = await fetch(`${app.url}/artifacts/${host.id}/artifacts`, { method: "POST", body: form, headers: { authorization: `Bearer ${token}` } });
    const { id } = (await res.json()) as { id: string };
    await as(operator).artifacts.delete({ id });
    return { action: "ARTIFACT_DELETED", actorEmail: operator.email, targetType: "artifact", targetId: id };
  },
};

const mutations = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>)
  .filter(([, procedure]) => procedure._def.type === "mutation")
  .map(([path]) => path)
  .sort();

describe("every state change is audited", () => {
  test("every mutation procedure has an audit scenario", () => {
    expect(mutations.filter((path) => !(path in SCENARIOS))).toEqual([]);
  });

  for (const path of mutations) {
    test(`${path} writes its audit event with actor, action and target`, async () => {
      const scenario = SCENARIOS[path];
      if (!scenario) throw new Error(`no audit scenario for ${path}`);
      const before = await lastEvent().catch(() => ({ id: 0 }));
      const expected = await scenario();
      const [event] = await db.orm.em
        .fork()
        .execute<{ action: string; actor_email: string; target_type: string | null; target_id: string | null }[]>(
          "select action, actor_email, target_type, target_id from audit_events where id > ? and action = ? order by id desc limit 1",
          [before.id, expected.action],
        );
      expect(event, `no ${expected.action} event after ${path}`).toBeDefined();
      expect({ actorEmail: event!.actor_email, targetType: event!.target_type, ...(expected.targetId ? { targetId: event!.target_id } : {}) }).toEqual({
        actorEmail: expected.actorEmail,
        targetType: expected.targetType,
        ...(expected.targetId ? { targetId: expected.targetId } : {}),
      });
    });
  }
});

describe("state-changing routes and sensitive reads are audited", () => {
  async function bearer() {
    return (await login(operator)).accessToken;
  }

  test("an artifact upload and its download", async () => {
    const host = await newHost("route-artifact");
    const token = await bearer();
    const form = new FormData();
    form.set("file", new Blob([Buffer.from("route bytes")]), "r.txt");
    const res = await fetch(`${app.url}/artifacts/${host.id}/artifacts`, { method: "POST", body: form, headers: { authorization: `Bearer ${token}` } });
    const { id } = (await res.json()) as { id: string };
    expect(await lastEvent()).toMatchObject({ action: "ARTIFACT_UPLOADED", actorEmail: operator.email, targetType: "artifact", targetId: id });
    await (await fetch(`${app.url}/artifacts/${id}/download`, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer();
    expect(await lastEvent()).toMatchObject({ action: "ARTIFACT_DOWNLOADED", actorEmail: operator.email, targetType: "artifact", targetId: id });
  });

  test("POST /hosts/:id/metrics:update", async () => {
    const host = await newHost("route-metrics");
    const res = await fetch(`${app.url}/hosts/${host.id}/metrics:update`, { method: "POST", headers: { authorization: `Bearer ${await bearer()}` } });
    expect(res.status).toBe(200);
    expect(await lastEvent()).toMatchObject({ action: "METRICS_UPDATED", actorEmail: operator.email, targetType: "host", targetId: String(host.id) });
  });

  test("exports: the host list as CSV and the audit log", async () => {
    const hostsCsv = await fetch(`${app.url}/hosts/export.csv?q=coverage`, { headers: { authorization: `Bearer ${await bearer()}` } });
    expect(hostsCsv.status).toBe(200);
    await hostsCsv.text();
    expect(await lastEvent()).toMatchObject({ action: "HOSTS_EXPORTED", actorEmail: operator.email });
    const adminToken = (await login(admin)).accessToken;
    const auditJsonl = await fetch(`${app.url}/audit/export?format=jsonl&action=HOST_CREATED`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(auditJsonl.status).toBe(200);
    await auditJsonl.text();
    const [exported] = await db.orm.em
      .fork()
      .execute<{ actor_email: string }[]>("select actor_email from audit_events where action = 'AUDIT_EXPORTED' order by id desc limit 1");
    expect(exported).toEqual({ actor_email: admin.email });
  });

  test("a failed sign-in through the form", async () => {
    await fetch(`${app.url}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { origin: app.url, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ intent: "password", email: operator.email, password: "wrong-password-x", redirectTo: "/" }),
    });
    expect(await lastEvent()).toMatchObject({ action: "LOGIN_FAILED", actorEmail: operator.email, targetType: "user" });
  });
});
