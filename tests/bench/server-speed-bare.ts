import { createServer, type IncomingMessage, type Server } from "node:http";
import pg from "pg";

/**
 * The bare baselines of the server-speed benchmark: `node:http` + `pg`, no framework, the
 * same SQL statements the app runs for each answer (the session check included, so the
 * comparison is about everything around the SQL), JSON by JSON.stringify and HTML by
 * template strings with the page's markup and stylesheet but no scripts or hydration
 * data. It is what a hand-written handler of each answer would cost: the floor.
 */

export type BareSession = { userId: number; sessionId: string; email: string; role: string };
export type BareServer = { url: string; close: () => Promise<void> };

type HostRow = {
  id: number;
  hostname: string;
  ip: string | null;
  port: number;
  ssh_user: string | null;
  bastion: string | null;
  ssh_template: string | null;
  environment: string | null;
  os: string | null;
  tags: string[];
  prometheus_instance: string | null;
  notes: string;
  version: number;
  created_at: Date;
  updated_at: Date;
};

const SESSION_SQL = `select u.id, u.email, u.role, u.mfa_enabled, u.disabled, u.token_version, s.revoked_at, s.expires_at
  from users u join sessions s on s.user_id = u.id where u.id = $1 and s.id = $2`;

const esc = (value: unknown): string =>
  String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

const hostView = (r: HostRow) => ({
  id: r.id,
  hostname: r.hostname,
  ip: r.ip,
  port: r.port,
  sshUser: r.ssh_user,
  bastion: r.bastion,
  sshTemplate: r.ssh_template,
  environment: r.environment,
  os: r.os,
  tags: r.tags,
  prometheusInstance: r.prometheus_instance,
  effectivePrometheusInstance: r.prometheus_instance || `${r.ip ?? r.hostname}:9100`,
  notes: r.notes,
  version: r.version,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

type HostQuery = { limit: number; tags?: string[]; cursor?: string };

/** The page of hosts (sorted by hostname, keyset cursor) and its total in one statement, as host-list.ts queries them. */
async function hostPage(pool: pg.Pool, input: HostQuery) {
  const filter: string[] = [];
  const params: unknown[] = [];
  if (input.tags?.length) {
    params.push(JSON.stringify(input.tags));
    filter.push(`tags @> array(select jsonb_array_elements_text($${params.length}::jsonb))`);
  }
  const where = [...filter];
  if (input.cursor) {
    const [value, id] = JSON.parse(Buffer.from(input.cursor, "base64url").toString()) as [string, number];
    params.push(value, id);
    where.push(`(hostname, id) > ($${params.length - 1}, $${params.length})`);
  }
  params.push(input.limit + 1);
  const clause = (w: string[]) => (w.length ? `where ${w.join(" and ")}` : "");
  const found = await pool.query<HostRow & { total: string }>(
    `select p.*, c.total from (select count(*) as total from hosts ${clause(filter)}) c
     left join lateral (select * from hosts ${clause(where)} order by hostname asc, id asc limit $${params.length}) p on true
     order by p.hostname asc, p.id asc`,
    params,
  );
  const rows = found.rows.filter((r) => r.id !== null);
  const items = rows.slice(0, input.limit).map(hostView);
  const last = rows.length > input.limit ? rows[input.limit - 1]! : null;
  return {
    items,
    nextCursor: last ? Buffer.from(JSON.stringify([last.hostname, last.id])).toString("base64url") : null,
    total: Number(found.rows[0]?.total ?? 0),
  };
}

function shell(session: BareSession, title: string, stylesheet: string, main: string): string {
  const nav = ["Hosts:/hosts", "Audit:/audit", "Users:/users", "Settings:/settings", "Account:/account"]
    .map((item) => {
      const [label, href] = item.split(":");
      return `<a class="link" href="${href}">${label}</a>`;
    })
    .join("");
  return `<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/><title>${esc(title)}</title><style>${stylesheet}</style><link rel="icon" href="/favicon.svg" type="image/svg+xml"/></head><body class="min-h-screen bg-slate-50 font-sans text-slate-900 dark:bg-slate-900 dark:text-slate-100"><header class="border-b border-slate-200 bg-white dark:border-slate-700 dark:bg-slate-800"><nav class="mx-auto flex max-w-6xl flex-wrap items-center gap-4 px-4 py-2" aria-label="Main"><a class="font-bold" href="/">OpsDesk</a>${nav}<span class="ml-auto text-sm"><form method="post" action="/logout" class="inline"><span class="mr-2 text-slate-600 dark:text-slate-400">${esc(session.email)} (${esc(session.role)})</span><button type="submit" class="link">Sign out</button></form></span></nav></header><main class="mx-auto max-w-6xl px-4 py-6">${main}</main></body></html>`;
}

const time = (iso: string) => `<time dateTime="${iso}">${iso.slice(0, 16).replace("T", " ")} UTC</time>`;

function hostsHtml(page: Awaited<ReturnType<typeof hostPage>>, facets: { environments: string[]; tags: string[] }): string {
  const options = (values: string[], none: string) => `<option value="">${none}</option>${values.map((v) => `<option value="${esc(v)}">${esc(v)}</option>`).join("")}`;
  const rows = page.items
    .map(
      (h) =>
        `<tr><td><a class="link font-medium" href="/hosts/${h.id}">${esc(h.hostname)}</a></td><td class="font-mono text-xs">${esc(h.ip ?? "—")}</td><td>${esc(h.environment ?? "—")}</td><td><ul class="flex flex-wrap gap-1">${h.tags
          .map((t) => `<li><a class="rounded bg-slate-100 px-1.5 py-0.5 text-xs hover:underline dark:bg-slate-700" title="Only hosts tagged ${esc(t)}" href="/hosts?tags=${encodeURIComponent(t)}">${esc(t)}</a></li>`)
          .join("")}</ul></td><td>${esc(h.os ?? "—")}</td><td>${time(h.updatedAt)}</td></tr>`,
    )
    .join("");
  return `<div class="space-y-4"><div class="flex flex-wrap items-center gap-3"><h1 class="text-2xl font-bold">Hosts</h1><span class="text-sm text-slate-600 dark:text-slate-400">${page.total.toLocaleString("en-US")} hosts</span><div class="ml-auto flex flex-wrap gap-2"><a class="btn" href="/hosts/export.csv" download="">Export CSV</a><a class="btn" href="/hosts/import">Import CSV</a><a class="btn btn-primary" href="/hosts/new">Add host</a></div></div><form method="get" class="card flex flex-wrap items-end gap-3" role="search"><div class="min-w-48 flex-1"><label class="label" for="q">Search</label><input class="input" id="q" name="q" type="search" placeholder="Hostname, IP or notes" maxLength="200"/></div><div><label class="label" for="environment">Environment</label><select class="input" id="environment" name="environment">${options(facets.environments, "All environments")}</select></div><div><label class="label" for="tags">Tag</label><select class="input" id="tags" name="tags">${options(facets.tags, "Any tag")}</select></div><div><label class="label" for="sort">Sort</label><select class="input" id="sort" name="sort"><option value="hostname">Hostname A–Z</option><option value="-hostname">Hostname Z–A</option><option value="-updated">Recently updated</option></select></div><button type="submit" class="btn btn-primary">Filter</button></form><div class="overflow-x-auto"><table class="table"><thead><tr><th scope="col">Hostname</th><th scope="col">IP</th><th scope="col">Environment</th><th scope="col">Tags</th><th scope="col">OS</th><th scope="col">Updated</th></tr></thead><tbody>${rows}</tbody></table></div><nav class="flex gap-4 text-sm" aria-label="Pages">${page.nextCursor ? `<a class="link" href="/hosts?cursor=${page.nextCursor}">Next page</a>` : ""}</nav></div>`;
}

type ArtifactRow = { id: string; original_name: string; size_bytes: string; sha256: string; uploaded_by_email: string; created_at: Date };

function hostHtml(host: ReturnType<typeof hostView>, sshTemplate: string, artifacts: ArtifactRow[], artifactTotal: number): string {
  const detail = (label: string, value: string) => `<div class="grid grid-cols-3 gap-2 py-1.5"><dt class="font-medium text-slate-600 dark:text-slate-400">${label}</dt><dd class="col-span-2 break-words">${value}</dd></div>`;
  const unset = `<span class="text-slate-500 dark:text-slate-400">—</span>`;
  const command = `ssh -p ${host.port} ${host.bastion ? `-J ${host.bastion} ` : ""}${host.sshUser ? `${host.sshUser}@` : ""}${host.ip ?? host.hostname}`;
  const artifactRows = artifacts
    .map(
      (a) =>
        `<tr><td><a class="link" href="/artifacts/${a.id}">${esc(a.original_name)}</a></td><td>${Number(a.size_bytes)} B</td><td class="font-mono text-xs" title="${a.sha256}">${a.sha256.slice(0, 12)}…</td><td>${esc(a.uploaded_by_email)}</td><td>${time(a.created_at.toISOString())}</td><td><form method="post"><input type="hidden" name="intent" value="delete-artifact"/><input type="hidden" name="id" value="${a.id}"/><button type="submit" class="btn btn-danger">Delete</button></form></td></tr>`,
    )
    .join("");
  return `<div class="space-y-6"><div><p class="mb-2 text-sm"><a class="link" href="/hosts">← Hosts</a></p><div class="flex flex-wrap items-center gap-3"><h1 class="break-all text-2xl font-bold">${esc(host.hostname)}</h1>${host.environment ? `<span class="rounded bg-sky-100 px-2 py-0.5 text-xs font-medium text-sky-900">${esc(host.environment)}</span>` : ""}<div class="ml-auto flex gap-2"><a class="btn" href="/hosts/${host.id}/edit">Edit</a><a class="btn btn-danger" href="/hosts/${host.id}/delete">Delete</a></div></div></div><section class="card" aria-labelledby="ssh-heading"><h2 id="ssh-heading" class="mb-2 text-lg font-semibold">SSH command</h2><label for="ssh-command" class="sr-only">SSH command for ${esc(host.hostname)}</label><div class="flex flex-wrap items-center gap-2"><input id="ssh-command" class="input min-w-0 flex-1 font-mono" readOnly value="${esc(command)}"/><form method="post"><input type="hidden" name="intent" value="copy"/><button class="btn">Copy</button></form></div><p class="mt-2 text-xs text-slate-500 dark:text-slate-400">From the default template in settings: <code class="break-all">${esc(sshTemplate)}</code></p></section><section class="card" aria-labelledby="details-heading"><h2 id="details-heading" class="mb-2 text-lg font-semibold">Details</h2><dl class="divide-y divide-slate-100 text-sm dark:divide-slate-700">${detail("Hostname", esc(host.hostname))}${detail("IP address", host.ip ? `<span class="font-mono">${esc(host.ip)}</span>` : unset)}${detail("Port", String(host.port))}${detail("SSH user", host.sshUser ? esc(host.sshUser) : unset)}${detail("Bastion", host.bastion ? `<span class="font-mono">${esc(host.bastion)}</span>` : unset)}${detail("Environment", host.environment ? esc(host.environment) : unset)}${detail("OS", host.os ? esc(host.os) : unset)}${detail("Tags", `<ul class="flex flex-wrap gap-1" aria-label="Tags">${host.tags.map((t) => `<li><a class="rounded-full bg-slate-100 px-2 py-0.5 text-xs hover:underline" href="/hosts?tags=${encodeURIComponent(t)}">${esc(t)}</a></li>`).join("")}</ul>`)}${detail("Prometheus instance", `<span class="font-mono">${esc(host.effectivePrometheusInstance)}</span>`)}${detail("SSH template", `<span class="text-slate-500">Default from settings</span>`)}${detail("Created", time(host.createdAt))}${detail("Updated", `${time(host.updatedAt)} <span class="text-xs text-slate-500">(version ${host.version})</span>`)}</dl><h3 class="mb-1 mt-4 font-semibold">Notes</h3>${host.notes ? `<p class="whitespace-pre-wrap break-words text-sm">${esc(host.notes)}</p>` : `<p class="text-sm text-slate-500 dark:text-slate-400">No notes.</p>`}</section><section class="card" aria-labelledby="metrics-heading"><h2 id="metrics-heading" class="mb-2 text-lg font-semibold">Metrics</h2><p class="text-sm">No metrics yet for <code>${esc(host.effectivePrometheusInstance)}</code>.</p><form method="post" action="/hosts/${host.id}/metrics:update"><button class="btn btn-primary">Update metrics</button></form></section><section id="artifacts" class="card scroll-mt-4" aria-labelledby="artifacts-heading"><h2 id="artifacts-heading" class="mb-2 text-lg font-semibold">Artifacts</h2><p class="text-sm">${artifactTotal} artifacts</p><table class="table text-sm"><thead><tr><th scope="col">Name</th><th scope="col">Size</th><th scope="col">SHA-256</th><th scope="col">Uploaded by</th><th scope="col">Uploaded</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead><tbody>${artifactRows}</tbody></table></section></div>`;
}

type AuditRow = {
  id: string;
  at: string;
  actor_id: number | null;
  actor_email: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  before: unknown;
  after: unknown;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  outcome: string;
  hash: string;
};

function diffHtml(before: unknown, after: unknown): string {
  if (before === null && after === null) return `<p class="text-sm text-slate-500">No before/after values recorded.</p>`;
  const b = (before ?? {}) as Record<string, unknown>;
  const a = (after ?? {}) as Record<string, unknown>;
  const fields = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
  const cell = (v: unknown, present: boolean) =>
    present ? `<code class="whitespace-pre-wrap break-all font-mono text-xs">${esc(typeof v === "string" ? v : JSON.stringify(v))}</code>` : `<span class="text-slate-400">—</span>`;
  return `<table class="table text-xs"><thead><tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr></thead><tbody>${fields
    .map((f) => `<tr><th scope="row" class="font-mono font-medium">${esc(f)}</th><td>${cell(b[f], f in b)}</td><td>${cell(a[f], f in a)}</td></tr>`)
    .join("")}</tbody></table>`;
}

function auditHtml(events: AuditRow[], actions: readonly string[]): string {
  const body = events
    .map((e) => {
      const actor = e.actor_email ?? (e.actor_id === null ? "system" : `user #${e.actor_id}`);
      const target = e.target_type ? `${e.target_type}${e.target_id ? ` ${e.target_id}` : ""}` : "—";
      return `<tbody id="event-${e.id}" class="border-t border-slate-200 dark:border-slate-700"><tr><td>${time(e.at)}</td><td class="break-all">${esc(actor)}</td><td class="font-mono text-xs">${esc(e.action)}</td><td class="break-all">${esc(target)}</td><td>${esc(e.outcome)}</td></tr><tr><td colSpan="5" class="pt-0"><details><summary class="cursor-pointer text-xs text-slate-600 dark:text-slate-400">Details of event #${e.id}</summary><div class="mt-2 grid gap-3 lg:grid-cols-[2fr_1fr]">${diffHtml(e.before, e.after)}<dl class="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-xs"><dt class="font-medium">Time</dt><dd class="font-mono">${e.at}</dd><dt class="font-medium">Outcome</dt><dd>${esc(e.outcome)}</dd><dt class="font-medium">Request id</dt><dd class="break-all font-mono">${esc(e.request_id ?? "—")}</dd><dt class="font-medium">IP</dt><dd class="font-mono">${esc(e.ip ?? "—")}</dd><dt class="font-medium">User agent</dt><dd class="break-all">${esc(e.user_agent ?? "—")}</dd><dt class="font-medium">Hash</dt><dd class="font-mono">${e.hash.slice(0, 12)}…</dd></dl></div></details></td></tr></tbody>`;
    })
    .join("");
  const options = actions.map((a) => `<option value="${a}">${a}</option>`).join("");
  return `<div class="space-y-4"><div class="flex flex-wrap items-center gap-3"><h1 class="text-2xl font-bold">Audit log</h1><div class="ml-auto flex flex-wrap gap-2"><a class="btn" href="/audit/export?format=csv" download="">Export CSV</a><a class="btn" href="/audit/export?format=jsonl" download="">Export JSONL</a><form method="post"><button type="submit" name="intent" value="verify" class="btn btn-primary">Verify chain</button></form></div></div><form method="get" class="card grid gap-3 sm:grid-cols-3"><div><label class="label" for="actor">Actor</label><input class="input" id="actor" name="actor"/></div><div><label class="label" for="action">Action</label><select class="input" id="action" name="action"><option value="">Any action</option>${options}</select></div><div><label class="label" for="from">From</label><input class="input" id="from" name="from" type="datetime-local"/></div><div><label class="label" for="to">To</label><input class="input" id="to" name="to" type="datetime-local"/></div><button class="btn btn-primary" type="submit">Filter</button></form><div class="card overflow-x-auto p-0"><table class="table"><thead><tr><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Outcome</th></tr></thead>${body}</table></div><p class="flex gap-4 text-sm"><a class="link" rel="next" href="/audit?cursor=x">Older events</a></p></div>`;
}

async function readFacets(pool: pg.Pool): Promise<{ environments: string[]; tags: string[] }> {
  const [envs, tags] = await Promise.all([
    pool.query<{ environment: string }>("select distinct environment from hosts where environment is not null order by environment limit 200"),
    pool.query<{ tag: string }>("select distinct unnest(tags) as tag from hosts order by tag limit 500"),
  ]);
  return { environments: envs.rows.map((r) => r.environment), tags: tags.rows.map((r) => r.tag) };
}

const AUDIT_SQL = `select id, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at, actor_id, actor_email,
  action, target_type, target_id, before, after, ip, user_agent, request_id, outcome, prev_hash, hash
  from audit_events order by id desc limit $1`;

/**
 * Starts the baseline server on 127.0.0.1. `stylesheet` is the app's CSS text (inlined in
 * the head as the app does). Every answer first runs the app's session-check query.
 */
export async function startBareServer(
  databaseUrl: string,
  session: BareSession,
  options: { stylesheet: string; actions: readonly string[] },
): Promise<BareServer> {
  // The app's pool size (db/orm.ts).
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  let facets: { environments: string[]; tags: string[] } | undefined;
  const handle = async (req: IncomingMessage): Promise<{ type: string; body: string }> => {
    const url = new URL(req.url ?? "/", "http://bare");
    const check = await pool.query(SESSION_SQL, [session.userId, session.sessionId]);
    if (check.rowCount !== 1) throw new Error("the bench session is gone");
    if (url.pathname === "/api/trpc/hosts.list") {
      const input = JSON.parse(url.searchParams.get("input") ?? "{}") as HostQuery;
      const page = await hostPage(pool, { ...input, limit: input.limit ?? 50 });
      return { type: "application/json", body: JSON.stringify({ result: { data: page } }) };
    }
    if (url.pathname === "/hosts") {
      // The app reads the facets once and then only the hosts' stamp (host-list.ts): so does this.
      const [stamp, page] = await Promise.all([
        pool.query("select (select max(id) from hosts) || '/' || (select max(updated_at) from hosts)::text as stamp"),
        hostPage(pool, { limit: 50 }),
      ]);
      void stamp;
      facets ??= await readFacets(pool);
      return { type: "text/html; charset=utf-8", body: shell(session, "Hosts · OpsDesk", options.stylesheet, hostsHtml(page, facets)) };
    }
    const hostMatch = /^\/hosts\/(\d+)$/.exec(url.pathname);
    if (hostMatch) {
      const id = Number(hostMatch[1]);
      const [host, settings, latest, expired, artifacts] = await Promise.all([
        pool.query<HostRow>("select * from hosts where id = $1 limit 1", [id]),
        pool.query<{ key: string; value: unknown }>("select * from settings"),
        pool.query("select * from metrics_snapshots where host_id = $1 and expires_at > now() order by collected_at desc limit 1", [id]),
        pool.query("select expires_at from metrics_snapshots where host_id = $1 and expires_at <= now() order by collected_at desc limit 1", [id]),
        pool.query<ArtifactRow & { total: string }>(
          `select a.*, c.total from (select count(*) as total from artifacts where host_id = $1) c
           left join lateral (select * from artifacts where host_id = $1 order by created_at desc, id desc limit 21) a on true
           order by a.created_at desc, a.id desc`,
          [id],
        ),
      ]);
      void latest;
      void expired;
      const template = String(settings.rows.find((r) => r.key === "ssh.defaultTemplate")?.value ?? "ssh -p {port} {user@}{host}");
      const view = hostView(host.rows[0]!);
      return {
        type: "text/html; charset=utf-8",
        body: shell(session, `${view.hostname} · Hosts · OpsDesk`, options.stylesheet, hostHtml(view, template, artifacts.rows.filter((a) => a.id !== null).slice(0, 20), Number(artifacts.rows[0]?.total ?? 0))),
      };
    }
    if (url.pathname === "/audit") {
      const events = await pool.query<AuditRow>(AUDIT_SQL, [51]);
      return { type: "text/html; charset=utf-8", body: shell(session, "Audit log · OpsDesk", options.stylesheet, auditHtml(events.rows.slice(0, 50), options.actions)) };
    }
    return { type: "text/plain", body: "not found" };
  };
  const server: Server = createServer((req, res) => {
    handle(req).then(
      ({ type, body }) => {
        res.writeHead(200, { "content-type": type, "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
        res.end(body);
      },
      (error: Error) => {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(error.message);
      },
    );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}
