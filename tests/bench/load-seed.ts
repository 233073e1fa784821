import pg from "pg";
import { trpc } from "../support/app-server";
import { bufferChunks, postStream } from "./bench-http";
import { benchCsv } from "./hosts-csv-rows";

/**
 * The load benchmark's fleet, made through the app behind the proxy as its users would
 * make it: an admin creates the accounts, an operator's API token imports the CSV
 * (POST /hosts/import.csv) and adds the hosts Prometheus watches, people sign in on the
 * /login form for their session cookies, and each session's CSRF token is read from the
 * host page where the "Update metrics" form carries it.
 */

export type BrowserSession = { cookie: string; csrfToken: string };

export type Fleet = {
  hostIds: number[];
  /** Hosts whose Prometheus instance is the real node_exporter. */
  metricsHostIds: number[];
  /** `cursor` values of real list pages (50 per page), for "next page" links. */
  pageCursors: string[];
  /** Same, for tRPC `hosts.list` at 100 per page. */
  apiCursors: string[];
  apiToken: string;
  sessions: BrowserSession[];
  /** Viewers who only sign in (the login load); all share LOGIN_PASSWORD. */
  loginEmails: string[];
};

export const LOGIN_PASSWORD = "load-bench-login-password-1";
const OPERATOR_PASSWORD = "load-bench-operator-password-1";

type Admin = { email: string; password: string };

export async function seedFleet(
  url: string,
  databaseUrl: string,
  admin: Admin,
  options: { hosts: number; sessions: number; loginAccounts: number; prometheusInstance: string },
): Promise<Fleet> {
  const adminToken = await signIn(url, admin.email, admin.password);
  const createUser = async (email: string, role: string, password: string) => {
    const res = await trpc(url, "users.create", { mutation: true, token: adminToken, input: { email, role, password } });
    if (res.status !== 200) throw new Error(`users.create ${email}: ${res.status} ${res.error?.message ?? ""}`);
  };

  const operator = "load-operator@load.bench";
  await createUser(operator, "operator", OPERATOR_PASSWORD);
  const operatorToken = await signIn(url, operator, OPERATOR_PASSWORD);
  const created = await trpc<{ token: string }>(url, "account.tokens.create", {
    mutation: true,
    token: operatorToken,
    input: { name: "load-bench", expiresInDays: 1 },
  });
  if (!created.data?.token) throw new Error(`account.tokens.create: ${created.status} ${created.error?.message ?? ""}`);
  const apiToken = created.data.token;

  const csv = benchCsv(options.hosts);
  const imported = await postStream(`${url}/hosts/import.csv?dryRun=false&fileName=fleet.csv`, apiToken, bufferChunks(csv), "text/csv", csv.length);
  const result = JSON.parse(imported.body) as { created?: number; errors?: unknown[] };
  if (imported.status !== 200 || result.created !== options.hosts) {
    throw new Error(`import: ${imported.status} ${imported.body.slice(0, 500)}`);
  }

  const metricsHostIds: number[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await trpc<{ id: number }>(url, "hosts.create", {
      mutation: true,
      token: apiToken,
      input: { hostname: `node-exporter-${i}.load.bench`, ip: "127.0.0.1", prometheusInstance: options.prometheusInstance, tags: ["monitoring"] },
    });
    if (!res.data?.id) throw new Error(`hosts.create: ${res.status} ${res.error?.message ?? ""}`);
    metricsHostIds.push(res.data.id);
  }

  const sessions: BrowserSession[] = [];
  for (let i = 0; i < options.sessions; i++) {
    const email = `load-engineer-${i}@load.bench`;
    await createUser(email, "operator", OPERATOR_PASSWORD);
    const cookie = await formSignIn(url, email, OPERATOR_PASSWORD);
    sessions.push({ cookie, csrfToken: await csrfTokenOf(url, cookie, metricsHostIds[0]!) });
  }

  const loginEmails: string[] = [];
  for (let i = 0; i < options.loginAccounts; i++) {
    const email = `load-viewer-${i}@load.bench`;
    await createUser(email, "viewer", LOGIN_PASSWORD);
    loginEmails.push(email);
  }

  return {
    hostIds: await allHostIds(databaseUrl),
    metricsHostIds,
    pageCursors: await cursors(url, apiToken, 50, 20),
    apiCursors: await cursors(url, apiToken, 100, 20),
    apiToken,
    sessions,
    loginEmails,
  };
}

async function signIn(url: string, email: string, password: string): Promise<string> {
  const res = await trpc<{ status: string; accessToken: string }>(url, "auth.login", { mutation: true, input: { email, password } });
  if (res.data?.status !== "ok") throw new Error(`auth.login ${email}: ${res.status} ${res.error?.message ?? ""}`);
  return res.data.accessToken;
}

/** The browser's sign-in: POST /login, then the session cookies it was given. */
async function formSignIn(url: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: url },
    body: new URLSearchParams({ email, password, intent: "password", redirectTo: "/hosts" }).toString(),
  });
  const cookies = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .filter((c) => /^opsdesk_(at|rt)=./.test(c));
  if (res.status !== 302 || cookies.length !== 2) throw new Error(`POST /login ${email}: ${res.status}, cookies ${cookies.length}`);
  return cookies.join("; ");
}

async function csrfTokenOf(url: string, cookie: string, hostId: number): Promise<string> {
  const res = await fetch(`${url}/hosts/${hostId}`, { headers: { cookie } });
  const html = await res.text();
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (res.status !== 200 || !token) throw new Error(`GET /hosts/${hostId}: ${res.status}, no CSRF field in the page`);
  return token;
}

async function allHostIds(databaseUrl: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<{ id: number }>("select id from hosts order by id")).rows.map((r) => r.id);
  } finally {
    await client.end();
  }
}

/** The first `pages` next-page cursors of the default list order. */
async function cursors(url: string, token: string, limit: number, pages: number): Promise<string[]> {
  const found: string[] = [];
  let cursor: string | undefined;
  while (found.length < pages) {
    const res = await trpc<{ nextCursor: string | null }>(url, "hosts.list", { token, input: { limit, ...(cursor ? { cursor } : {}) } });
    if (res.status !== 200) throw new Error(`hosts.list: ${res.status} ${res.error?.message ?? ""}`);
    if (!res.data?.nextCursor) break;
    cursor = res.data.nextCursor;
    found.push(cursor);
  }
  return found;
}
