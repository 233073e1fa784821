import type { HostSort } from "../../server/services/hosts/host-list";

/**
 * Client-safe helpers shared by the host pages (no server imports at run time, so they
 * can be used by components without pulling server code into the browser bundle).
 */

/** The list's sort options, in the order the select shows them (same values as HOST_SORTS). */
export const HOST_SORT_OPTIONS = [
  { value: "hostname", label: "Hostname A→Z" },
  { value: "-hostname", label: "Hostname Z→A" },
  { value: "created", label: "Oldest first" },
  { value: "-created", label: "Newest first" },
  { value: "updated", label: "Least recently updated" },
  { value: "-updated", label: "Recently updated" },
] as const satisfies ReadonlyArray<{ value: HostSort; label: string }>;

export function isHostSort(value: string | null | undefined): value is HostSort {
  return HOST_SORT_OPTIONS.some((option) => option.value === value);
}

/** PostgreSQL `integer` ids: anything else cannot name a host. */
const MAX_ID = 2_147_483_647;

/** The numeric id in a `/hosts/:hostId` URL, or null when it cannot be a host id. */
export function parseHostId(raw: string | undefined): number | null {
  if (!raw || !/^[1-9][0-9]{0,9}$/.test(raw)) return null;
  const id = Number(raw);
  return id <= MAX_ID ? id : null;
}

/** A value that looks like a stored hostname (used before echoing one from a URL). */
export function looksLikeHostname(value: string | null): value is string {
  return value !== null && value.length <= 253 && /^[a-z0-9][a-z0-9.-]*$/.test(value);
}

/** The list filters as URL parameters (without cursor), for links that keep them. */
export type HostListFilters = { q?: string; environment?: string; tags?: string[]; sort?: HostSort; limit?: number };

export function hostFilterParams(filters: HostListFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.q) params.set("q", filters.q);
  if (filters.environment) params.set("environment", filters.environment);
  for (const tag of filters.tags ?? []) params.append("tags", tag);
  if (filters.sort) params.set("sort", filters.sort);
  if (filters.limit) params.set("limit", String(filters.limit));
  return params;
}

/** Reads the list filters from a URL's parameters; `tags` may repeat or be comma-separated. */
export function hostFiltersFromParams(params: URLSearchParams): Omit<HostListFilters, "limit"> {
  const q = params.get("q")?.trim() || undefined;
  const environment = params.get("environment")?.trim().toLowerCase() || undefined;
  const tags = [
    ...new Set(
      params
        .getAll("tags")
        .flatMap((value) => value.split(","))
        .map((tag) => tag.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
  const sort = params.get("sort");
  return {
    q,
    environment,
    tags: tags.length ? tags : undefined,
    sort: isHostSort(sort) ? sort : undefined,
  };
}
