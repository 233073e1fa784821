import autocannon, { type Options, type Request, type Result } from "autocannon";
import { type Fleet, LOGIN_PASSWORD } from "./load-seed";

/**
 * The request mix of the load benchmark, one autocannon per kind of client so each kind
 * gets its own req/s and latency. Every request is chosen at random per send
 * (setupRequest): a page of the list, a host, a session, a filter.
 *
 * - people on the dashboard: list pages (first page, next pages, filters, a search) and
 *   host pages, with a session cookie, as a browser sends them (gzip accepted);
 * - scripts: tRPC `hosts.list` with an API token, as GET batch URLs the way
 *   createOpsDeskClient (httpBatchLink) sends queries;
 * - "Update metrics" as the page's JavaScript sends it: tRPC `metrics.update` POST with the
 *   session cookie, X-CSRF-Token and Origin, on a handful of hosts watched by the real
 *   Prometheus, at a person's pace;
 * - sign-ins: tRPC `auth.login` of viewers at a steady rate (a separate, small autocannon).
 */

export type ClientGroup = {
  name: string;
  /** "read" groups make the read mix the 2-vs-1 scaling ratio is taken on. */
  kind: "read" | "write" | "login";
  options: Options;
};

export type MixShape = { listPages: number; hostPages: number; api: number; metrics: number; metricsRatePerClient: number; loginRate: number };

export const DEFAULT_MIX: MixShape = { listPages: 30, hostPages: 30, api: 35, metrics: 5, metricsRatePerClient: 1, loginRate: 2 };

/**
 * `LOAD_MIX="listPages=30,hostPages=30,api=35,metrics=5,metricsRatePerClient=1,loginRate=2"`
 * (any subset) changes the mix, e.g. to leave a kind out and see what it costs.
 * A group of 0 connections is left out.
 */
export function mixFromEnv(value: string | undefined): MixShape {
  const shape = { ...DEFAULT_MIX };
  for (const part of (value ?? "").split(",").filter(Boolean)) {
    const [key, raw] = part.split("=");
    if (!key || !(key in shape) || !raw || !Number.isFinite(Number(raw)) || Number(raw) < 0) {
      throw new Error(`LOAD_MIX: "${part}" is not one of ${Object.keys(DEFAULT_MIX).join(", ")} = a number >= 0`);
    }
    shape[key as keyof MixShape] = Number(raw);
  }
  return shape;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

const BROWSER = { accept: "text/html,application/xhtml+xml", "accept-encoding": "gzip", "user-agent": "load-bench (browser)" };
const SCRIPT = { accept: "application/json", "accept-encoding": "gzip", "user-agent": "opsdesk-client" };

const LIST_FILTERS = [
  "",
  "environment=prod",
  "environment=staging&tags=eu",
  "tags=db",
  "q=web-00012",
  "q=eu-central-1",
  "sort=hostname",
] as const;

/** `/hosts?…`: a third the first page, a third a next-page link, a third a filter or search. */
export function listPagePath(fleet: Fleet): string {
  const roll = Math.random();
  if (roll < 1 / 3 || fleet.pageCursors.length === 0) return "/hosts";
  if (roll < 2 / 3) return `/hosts?cursor=${encodeURIComponent(pick(fleet.pageCursors))}`;
  return `/hosts?${pick(LIST_FILTERS)}`;
}

/** GET /api/trpc/hosts.list?batch=1&input=… as httpBatchLink encodes one query. */
export function apiListPath(fleet: Fleet): string {
  const roll = Math.random();
  const input: Record<string, unknown> = { limit: 100 };
  if (roll < 0.5 && fleet.apiCursors.length > 0) input.cursor = pick(fleet.apiCursors);
  else if (roll < 0.75) input.environment = pick(["prod", "staging", "dev"]);
  else input.tags = [pick(["db", "web", "k8s", "eu", "us"])];
  return `/api/trpc/hosts.list?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: input }))}`;
}

export function buildMix(url: string, fleet: Fleet, seconds: number, shape: MixShape = DEFAULT_MIX): ClientGroup[] {
  // Latency percentiles of successful answers only: a proxy's instant 503 is not a fast page.
  const base = { url, duration: seconds, timeout: 10, excludeErrorStats: true };
  // A person's session; a mutation also carries that session's CSRF token, as the page's JS does.
  const withSession = (request: Request, csrf = false): Request => {
    const session = pick(fleet.sessions);
    const headers = { ...request.headers, cookie: session.cookie, ...(csrf ? { "x-csrf-token": session.csrfToken } : {}) };
    return { ...request, headers };
  };
  let loginTurn = 0;
  const groups: ClientGroup[] = [
    {
      name: "list pages  GET /hosts?…",
      kind: "read",
      options: {
        ...base,
        connections: shape.listPages,
        requests: [{ method: "GET", headers: BROWSER, setupRequest: (r) => withSession({ ...r, path: listPagePath(fleet) }) }],
      },
    },
    {
      name: "host pages  GET /hosts/:id",
      kind: "read",
      options: {
        ...base,
        connections: shape.hostPages,
        requests: [{ method: "GET", headers: BROWSER, setupRequest: (r) => withSession({ ...r, path: `/hosts/${pick(fleet.hostIds)}` }) }],
      },
    },
    {
      name: "tRPC hosts.list (API token)",
      kind: "read",
      options: {
        ...base,
        connections: shape.api,
        requests: [
          { method: "GET", headers: { ...SCRIPT, authorization: `Bearer ${fleet.apiToken}` }, setupRequest: (r) => ({ ...r, path: apiListPath(fleet) }) },
        ],
      },
    },
    {
      name: "metrics.update (cookie+CSRF)",
      kind: "write",
      options: {
        ...base,
        connections: shape.metrics,
        connectionRate: shape.metricsRatePerClient,
        requests: [
          {
            method: "POST",
            path: "/api/trpc/metrics.update?batch=1",
            headers: { ...SCRIPT, "content-type": "application/json", origin: url },
            setupRequest: (r) => ({
              ...withSession(r, true),
              body: JSON.stringify({ 0: { hostId: pick(fleet.metricsHostIds) } }),
            }),
          },
        ],
      },
    },
    {
      name: "sign-ins  tRPC auth.login",
      kind: "login",
      options: {
        ...base,
        connections: shape.loginRate > 0 ? 2 : 0,
        overallRate: shape.loginRate,
        requests: [
          {
            method: "POST",
            path: "/api/trpc/auth.login?batch=1",
            headers: { ...SCRIPT, "content-type": "application/json" },
            setupRequest: (r) => {
              loginTurn += 1;
              const email = fleet.loginEmails[loginTurn % fleet.loginEmails.length];
              return { ...r, body: JSON.stringify({ 0: { email, password: LOGIN_PASSWORD } }) };
            },
          },
        ],
      },
    },
  ];
  return groups.filter((g) => (g.options.connections ?? 0) > 0);
}

/** An autocannon result and what its connection errors said ("request timed out" x3 …). */
export type GroupResult = Result & { errorMessages: Record<string, number> };

/** Runs the groups at the same time; resolves with each one's result, in order. */
export function runGroups(groups: ClientGroup[]): Promise<GroupResult[]> {
  return Promise.all(groups.map((group) => runAutocannon({ ...group.options, title: group.name })));
}

export function runAutocannon(options: Options): Promise<GroupResult> {
  return new Promise((resolve, reject) => {
    const errorMessages: Record<string, number> = {};
    const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve({ ...result, errorMessages })));
    instance.on("reqError", (error: Error & { code?: string }) => {
      const key = error.code ?? error.message;
      errorMessages[key] = (errorMessages[key] ?? 0) + 1;
    });
  });
}

/**
 * Sends one request of each group's kind with fetch and checks it succeeds and answers
 * what that client expects, so a mix that is wrong (a 302 to /login, a CSRF refusal)
 * fails before the load instead of being counted as load.
 */
export async function checkMixOnce(url: string, groups: ClientGroup[]): Promise<void> {
  for (const group of groups) {
    const template = group.options.requests![0]!;
    const request = template.setupRequest ? template.setupRequest({ ...template }, {})! : template;
    const res = await fetch(`${url}${request.path}`, {
      method: request.method,
      headers: request.headers,
      body: request.method === "GET" ? undefined : (request.body as string),
      redirect: "manual",
    });
    const body = await res.text();
    const expected = group.kind === "read" && !request.path!.startsWith("/api/") ? "</html>" : '"result"';
    if (res.status !== 200 || !body.includes(expected)) {
      throw new Error(`${group.name}: ${request.method} ${request.path} answered ${res.status}: ${body.slice(0, 300)}`);
    }
  }
}
