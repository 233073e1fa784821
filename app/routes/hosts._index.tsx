import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation, useSubmit } from "@remix-run/react";
import { TRPCError } from "@trpc/server";
import { type FormEvent, useEffect, useRef } from "react";
import { roleCan } from "../../server/auth/roles";
import { hostListRowsHtml } from "../components/host-list-rows";
import { HtmlMarkup } from "../components/html-markup";
import { FormAlert } from "../components/form-fields";
import { useHydrated } from "../components/host-hydrated";
import {
  HOST_SORT_OPTIONS,
  type HostListFilters,
  hostFilterParams,
  hostFiltersFromParams,
  looksLikeHostname,
} from "../components/host-utils";
import { callerFor, formError, pageError } from "../trpc/caller.server";
import { requireCapability } from "../utils/guards.server";

export const meta: MetaFunction = () => [{ title: "Hosts · OpsDesk" }];

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;
const SEARCH_DEBOUNCE_MS = 350;

function parseLimit(raw: string | null): number | undefined {
  if (!raw || !/^\d{1,4}$/.test(raw)) return undefined;
  const limit = Number(raw);
  return limit >= 1 ? Math.min(limit, MAX_LIMIT) : undefined;
}

const FILTER_LABELS: Record<string, string> = {
  q: "Search",
  environment: "Environment",
  tags: "Tag",
  sort: "Sort",
  cursor: "Page link",
  limit: "Page size",
};

/** A refused filter as one readable sentence (input validation errors carry one issue per field). */
function filterErrorMessage(error: TRPCError): string {
  const { fieldErrors, message } = formError(error);
  if (!fieldErrors) return message;
  return Object.entries(fieldErrors)
    .map(([field, messages]) => `${FILTER_LABELS[field] ?? field}: ${messages?.[0] ?? "not valid"}.`)
    .join(" ");
}

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireCapability(request, context, "hosts.view");
  const url = new URL(request.url);
  const filters = hostFiltersFromParams(url.searchParams);
  const limit = parseLimit(url.searchParams.get("limit"));
  const cursor = url.searchParams.get("cursor") || undefined;
  const caller = await callerFor(request, context);
  const facets = await caller.hosts.facets().catch((e) => pageError(e, request));
  let error: string | null = null;
  let list: { items: Awaited<ReturnType<typeof caller.hosts.list>>["items"]; nextCursor: string | null; total: number };
  try {
    list = await caller.hosts.list({ ...filters, cursor, limit: limit ?? DEFAULT_LIMIT });
  } catch (e) {
    // A bad filter or a stale page link: say so on the page, with the controls to fix it.
    if (!(e instanceof TRPCError) || e.code !== "BAD_REQUEST") pageError(e, request);
    error = filterErrorMessage(e);
    list = { items: [], nextCursor: null, total: 0 };
  }
  const deleted = url.searchParams.get("deleted");
  return {
    filters: { ...filters, limit } satisfies HostListFilters,
    paged: Boolean(cursor),
    hosts: list.items.map((h) => ({
      id: h.id,
      hostname: h.hostname,
      ip: h.ip,
      environment: h.environment,
      tags: h.tags,
      os: h.os,
      updatedAt: h.updatedAt,
    })),
    nextCursor: list.nextCursor,
    total: list.total,
    facets,
    error,
    canWrite: roleCan(user.role, "hosts.write"),
    deleted: looksLikeHostname(deleted) ? deleted : null,
  };
}

function pluralHosts(n: number) {
  return `${n.toLocaleString("en-US")} ${n === 1 ? "host" : "hosts"}`;
}

export default function HostsPage() {
  const page = useLoaderData<typeof loader>();
  const { filters } = page;
  const filtered = Boolean(filters.q || filters.environment || filters.tags?.length);
  const params = hostFilterParams(filters);
  const exportParams = hostFilterParams({ ...filters, limit: undefined });
  const nextParams = new URLSearchParams(params);
  if (page.nextCursor) nextParams.set("cursor", page.nextCursor);
  const firstPage = `/hosts${params.toString() ? `?${params}` : ""}`;

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-bold">Hosts</h1>
        <span className="text-sm text-slate-600 dark:text-slate-400" data-testid="host-total">
          {pluralHosts(page.total)}
        </span>
        <div className="ml-auto flex flex-wrap gap-2">
          <a href={`/hosts/export.csv${exportParams.toString() ? `?${exportParams}` : ""}`} className="btn" download>
            Export CSV
          </a>
          {page.canWrite ? (
            <>
              <Link to="/hosts/import" className="btn">
                Import CSV
              </Link>
              <Link to="/hosts/new" className="btn btn-primary">
                Add host
              </Link>
            </>
          ) : null}
        </div>
      </div>

      {page.deleted ? <FormAlert ok message={`Host ${page.deleted} was deleted.`} /> : null}

      <HostFilters filters={filters} facets={page.facets} />

      <FormAlert message={page.error} />

      {page.hosts.length === 0 ? (
        <EmptyState filtered={filtered} paged={page.paged} canWrite={page.canWrite} failed={Boolean(page.error)} />
      ) : (
        <div className="overflow-x-auto">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Hostname</th>
                <th scope="col">IP</th>
                <th scope="col">Environment</th>
                <th scope="col">Tags</th>
                <th scope="col">OS</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            {/* Rows as one HTML string, links delegated: hydration skips them (ADR 028). */}
            <HtmlMarkup markup={hostListRowsHtml(page.hosts, filters)} />
          </table>
        </div>
      )}

      <nav className="flex gap-4 text-sm" aria-label="Pages">
        {page.paged || page.error ? (
          <Link to={firstPage} className="link">
            First page
          </Link>
        ) : null}
        {page.nextCursor ? (
          <Link to={`/hosts?${nextParams}`} className="link">
            Next page
          </Link>
        ) : null}
      </nav>
    </div>
  );
}

function EmptyState({
  filtered,
  paged,
  canWrite,
  failed,
}: {
  filtered: boolean;
  paged: boolean;
  canWrite: boolean;
  failed: boolean;
}) {
  if (failed) return null;
  if (filtered) {
    return (
      <div className="card text-sm">
        <p className="mb-2">No hosts match these filters.</p>
        <Link to="/hosts" className="link">
          Clear filters
        </Link>
      </div>
    );
  }
  if (paged) {
    return (
      <div className="card text-sm">
        <p>There are no more hosts on this page.</p>
      </div>
    );
  }
  return (
    <div className="card text-sm">
      <p className="mb-2 font-medium">No hosts yet.</p>
      {canWrite ? (
        <p>
          <Link to="/hosts/new" className="link">
            Add a host
          </Link>{" "}
          one by one, or{" "}
          <Link to="/hosts/import" className="link">
            Import a CSV
          </Link>{" "}
          of your inventory.
        </p>
      ) : (
        <p>Ask an operator or an admin to add hosts; they will appear here.</p>
      )}
    </div>
  );
}

/**
 * Search and filters in a GET form: without JavaScript the Filter button submits it;
 * with JavaScript any change submits it (the search box after a pause in typing).
 */
function HostFilters({
  filters,
  facets,
}: {
  filters: HostListFilters;
  facets: { environments: string[]; tags: string[] };
}) {
  const hydrated = useHydrated();
  const submit = useSubmit();
  const navigation = useNavigation();
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  const environments = withCurrent(facets.environments, filters.environment);
  const selectedTag = filters.tags?.[0] ?? "";

  // The fields are uncontrolled (they work without JavaScript); after a navigation by a
  // link (a tag chip, "Clear filters") show the new filters, except in the field being typed in.
  const { q = "", environment = "", sort = "hostname" } = filters;
  useEffect(() => {
    const form = formRef.current;
    if (!form) return;
    const wanted: [string, string][] = [
      ["input[name=q]", q],
      ["select[name=environment]", environment],
      ["select[name=tags]", selectedTag],
      ["select[name=sort]", sort],
    ];
    for (const [selector, value] of wanted) {
      const field = form.querySelector<HTMLInputElement | HTMLSelectElement>(selector);
      if (field && field !== document.activeElement && field.value !== value) field.value = value;
    }
  }, [q, environment, selectedTag, sort]);
  const tags = withCurrent(facets.tags, selectedTag || undefined);
  const extraTags = filters.tags?.slice(1) ?? [];

  /** Submits the form's non-empty values only, so the URL stays short and readable. */
  function submitFilters(form: HTMLFormElement, replace: boolean) {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (typeof value === "string" && value.trim() !== "" && !(name === "sort" && value === "hostname")) {
        params.append(name, value);
      }
    }
    submit(params, { method: "get", action: "/hosts", replace, preventScrollReset: true });
  }

  function onChange(event: FormEvent<HTMLFormElement>) {
    const form = event.currentTarget;
    if (timer.current) clearTimeout(timer.current);
    const target = event.target as HTMLElement;
    if (target instanceof HTMLInputElement && target.name === "q") {
      timer.current = setTimeout(() => submitFilters(form, true), SEARCH_DEBOUNCE_MS);
    } else {
      submitFilters(form, false);
    }
  }

  const searching = navigation.state === "loading" && navigation.location?.pathname === "/hosts";

  return (
    <Form
      ref={formRef}
      method="get"
      className="card flex flex-wrap items-end gap-3"
      onChange={onChange}
      onSubmit={() => {
        // Enter in the search box submits at once: drop the pending debounced submission.
        if (timer.current) clearTimeout(timer.current);
      }}
      role="search"
    >
      <div className="min-w-48 flex-1">
        <label className="label" htmlFor="q">
          Search
        </label>
        <input
          className="input"
          id="q"
          name="q"
          type="search"
          defaultValue={filters.q ?? ""}
          placeholder="Hostname, IP or notes"
          maxLength={200}
          autoComplete="off"
        />
      </div>
      <div>
        <label className="label" htmlFor="environment">
          Environment
        </label>
        <select className="input" id="environment" name="environment" defaultValue={filters.environment ?? ""}>
          <option value="">All environments</option>
          {environments.map((env) => (
            <option key={env} value={env}>
              {env}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label className="label" htmlFor="tags">
          Tag
        </label>
        <select className="input" id="tags" name="tags" defaultValue={selectedTag}>
          <option value="">Any tag</option>
          {tags.map((tag) => (
            <option key={tag} value={tag}>
              {tag}
            </option>
          ))}
        </select>
        {extraTags.map((tag) => (
          <input key={tag} type="hidden" name="tags" value={tag} />
        ))}
      </div>
      <div>
        <label className="label" htmlFor="sort">
          Sort
        </label>
        <select className="input" id="sort" name="sort" defaultValue={filters.sort ?? "hostname"}>
          {HOST_SORT_OPTIONS.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      </div>
      {filters.limit ? <input type="hidden" name="limit" value={filters.limit} /> : null}
      {hydrated ? null : (
        <button type="submit" className="btn btn-primary">
          Filter
        </button>
      )}
      {extraTags.length ? (
        <p className="w-full text-xs text-slate-600 dark:text-slate-400">Also tagged: {extraTags.join(", ")}</p>
      ) : null}
      <span className="text-xs text-slate-500 dark:text-slate-400" aria-live="polite">
        {searching ? "Updating…" : ""}
      </span>
    </Form>
  );
}

function withCurrent(values: string[], current: string | undefined): string[] {
  return current && !values.includes(current) ? [current, ...values] : values;
}
