import type { EntityManager } from "@mikro-orm/postgresql";
import { csvLine } from "../../domain/csv/csv-cell";
import { HOSTS_CSV_COLUMNS, HOSTS_CSV_TAG_SEPARATOR } from "../../domain/csv/hosts-csv";
import type { Config } from "../../config";
import { type AuditActor, type AuditRequestInfo, recordAuditEvent } from "../audit.service";
import type { HostView } from "./host-view";
import { type HostFilters, type HostSort, listHosts } from "./host-list";

/**
 * The filtered host list as CSV (the import's columns, so an export imports back
 * unchanged), streamed page by page: memory stays flat for any inventory size.
 */
export async function* exportHostsCsv(
  em: EntityManager,
  filters: HostFilters & { sort?: HostSort },
): AsyncGenerator<string> {
  yield csvLine(HOSTS_CSV_COLUMNS.map((c) => c.column));
  let cursor: string | undefined;
  do {
    const page = await listHosts(em, { ...filters, sort: filters.sort ?? "hostname", cursor, limit: 100 });
    yield page.items.map((host) => csvLine(HOSTS_CSV_COLUMNS.map((c) => cellFor(host, c.field)))).join("");
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

function cellFor(host: HostView, field: keyof HostView): unknown {
  const value = host[field];
  return Array.isArray(value) ? value.join(HOSTS_CSV_TAG_SEPARATOR) : value;
}

/** Exporting the inventory is a sensitive read: recorded before the first byte goes out. */
export async function recordHostsExport(
  em: EntityManager,
  config: Config,
  actor: AuditActor,
  filters: HostFilters & { sort?: HostSort },
  request: AuditRequestInfo,
): Promise<void> {
  const { sort, ...rest } = filters;
  await recordAuditEvent(em, config.secret, {
    actor,
    action: "HOSTS_EXPORTED",
    targetType: "hosts",
    after: { filters: { ...rest, ...(sort ? { sort } : {}) }, format: "csv" },
    request,
  });
}
