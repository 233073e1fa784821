import type { EntityManager } from "@mikro-orm/postgresql";
import type { Knex } from "@mikro-orm/postgresql";
import { DomainError } from "../../errors";
import type { HostView } from "./host-view";
import { hostView } from "./host-view";
import type { Host } from "../../../db/entities/host.entity";

export const HOST_SORTS = ["hostname", "-hostname", "created", "-created", "updated", "-updated"] as const;
export type HostSort = (typeof HOST_SORTS)[number];

export type HostFilters = { q?: string; tags?: string[]; environment?: string };

const SORT_COLUMNS: Record<HostSort, { column: "hostname" | "created_at" | "updated_at"; desc: boolean }> = {
  hostname: { column: "hostname", desc: false },
  "-hostname": { column: "hostname", desc: true },
  created: { column: "created_at", desc: false },
  "-created": { column: "created_at", desc: true },
  updated: { column: "updated_at", desc: false },
  "-updated": { column: "updated_at", desc: true },
};

/** Filters shared by the list, its count and the CSV export. */
export function applyHostFilters(qb: Knex.QueryBuilder, filters: HostFilters): Knex.QueryBuilder {
  const q = filters.q?.trim();
  if (q) {
    const like = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    qb.where((w) => w.whereILike("hostname", like).orWhereILike("ip", like).orWhereILike("notes", like));
  }
  if (filters.environment) qb.where("environment", filters.environment);
  // Arrays travel as JSON: knex would expand a bound array into a list of parameters.
  if (filters.tags?.length) qb.whereRaw("tags @> array(select jsonb_array_elements_text(?::jsonb))", [JSON.stringify(filters.tags)]);
  return qb;
}

type Cursor = [string, number];

function encodeCursor(value: string, id: number): string {
  return Buffer.from(JSON.stringify([value, id])).toString("base64url");
}

function decodeCursor(cursor: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString()) as unknown;
    if (Array.isArray(parsed) && typeof parsed[0] === "string" && Number.isInteger(parsed[1])) return parsed as Cursor;
  } catch {
    // fall through
  }
  throw new DomainError("BAD_REQUEST", "That page link is not valid any more; start from the first page.");
}

export type HostRow = {
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

export function rowToHost(r: HostRow): Host {
  return {
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
    notes: r.notes,
    version: r.version,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  } as Host;
}

/**
 * Keyset pagination: the cursor is the last row's sort value and id, so rows inserted
 * while someone pages through never cause duplicates or gaps. The page and the filtered
 * total come back from one statement (the count joined with the page, laterally): one
 * round trip and one pooled connection per list instead of two (ADR 025).
 */
export async function listHosts(
  em: EntityManager,
  input: HostFilters & { sort?: HostSort; cursor?: string; limit?: number },
): Promise<{ items: HostView[]; nextCursor: string | null; total: number }> {
  const limit = input.limit ?? 50;
  const sort = SORT_COLUMNS[input.sort ?? "hostname"];
  const direction = sort.desc ? "desc" : "asc";
  const knex = em.getKnex();
  const page = applyHostFilters(knex("hosts").select("*"), input);
  if (input.cursor) {
    const [value, id] = decodeCursor(input.cursor);
    const cast = sort.column === "hostname" ? "?" : "?::timestamptz";
    page.whereRaw(`(${sort.column}, id) ${sort.desc ? "<" : ">"} (${cast}, ?)`, [value, id]);
  }
  page.orderBy([
    { column: sort.column, order: direction },
    { column: "id", order: direction },
  ]);
  page.limit(limit + 1);
  const count = applyHostFilters(knex("hosts").count<{ count: string }[]>("* as total"), input);
  // An empty page still gives one row (the total, page columns null).
  const statement = knex.raw(
    `select p.*, c.total from (?) c left join lateral (?) p on true order by p.${sort.column} ${direction}, p.id ${direction}`,
    [count, page],
  );
  const found = await em.execute<(HostRow & { total: string })[]>(statement);
  const rows = found.filter((r) => r.id !== null);
  const items = rows.slice(0, limit).map((r) => hostView(rowToHost(r)));
  const last = rows.length > limit ? rows[limit - 1]! : null;
  const nextCursor = last
    ? encodeCursor(sort.column === "hostname" ? last.hostname : new Date(last[sort.column]).toISOString(), last.id)
    : null;
  return { items, nextCursor, total: Number(found[0]?.total ?? 0) };
}

type Facets = { environments: string[]; tags: string[] };
/** Facets per database (one connection object per ORM), with the stamp they were read at. */
const facetsCache = new WeakMap<object, { stamp: string; readAt: number; facets: Facets }>();
/** Even with an unchanged stamp, facets are read again after this long (see hostFacets). */
const FACETS_MAX_AGE_MS = 60_000;

/**
 * Distinct environments and tags in use, for the filter controls. Reading them scans
 * every host (two aggregates over the table on each /hosts page), so they are kept per
 * process and read again only when the hosts' stamp changes: the count (a host deleted),
 * the newest id (a host added) or the latest updated_at (a host changed; imports and edits
 * set it). The stamp is read from the database on every call, so every instance sees
 * another's change at once; after a minute the facets are read again regardless.
 */
export async function hostFacets(em: EntityManager): Promise<Facets> {
  const [stamped] = await em.execute<{ stamp: string | null }[]>(
    "select (select count(*) from hosts) || '/' || (select max(id) from hosts) || '/' || (select max(updated_at) from hosts)::text as stamp",
  );
  const stamp = stamped?.stamp ?? "empty";
  const key = em.getConnection();
  const cached = facetsCache.get(key);
  if (cached && cached.stamp === stamp && Date.now() - cached.readAt < FACETS_MAX_AGE_MS) return cached.facets;
  const facets = await readFacets(em);
  facetsCache.set(key, { stamp, readAt: Date.now(), facets });
  return facets;
}

async function readFacets(em: EntityManager): Promise<Facets> {
  const [envs, tags] = await Promise.all([
    em.execute<{ environment: string }[]>(
      "select distinct environment from hosts where environment is not null order by environment limit 200",
    ),
    em.execute<{ tag: string }[]>("select distinct unnest(tags) as tag from hosts order by tag limit 500"),
  ]);
  return { environments: envs.map((e) => e.environment), tags: tags.map((t) => t.tag) };
}
