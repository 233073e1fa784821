import { type ActionFunctionArgs, data, type LoaderFunctionArgs, redirect } from "@remix-run/node";
import { TRPCError } from "@trpc/server";
import {
  AUDIT_FILTER_KEYS,
  type AuditFilters,
  auditFiltersFromSearchParams,
  cursorStartingAt,
  KNOWN_AUDIT_ACTIONS,
} from "../../server/services/audit-query.service";
import { callerFor, pageError } from "../trpc/caller.server";
import { requireCapability } from "../utils/guards.server";

/**
 * The /audit page's loader and action. Kept in a `.server` module so the query service
 * (zod schemas, node:crypto through audit.service) never reaches the browser bundle.
 */
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;

function parseLimit(raw: string | null): number | undefined {
  if (!raw || !/^\d{1,4}$/.test(raw)) return undefined;
  const limit = Number(raw);
  return limit >= 1 ? Math.min(limit, MAX_LIMIT) : undefined;
}

/**
 * The form submits every field, blank or not, plus `actionOther` (the free-text action):
 * this is the one query string each set of filters has, so links and exports stay short.
 */
function canonicalParams(params: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  const actionOther = params.get("actionOther")?.trim();
  for (const key of AUDIT_FILTER_KEYS) {
    const value = key === "action" && actionOther ? actionOther : params.get(key)?.trim();
    if (value) out.set(key, value);
  }
  for (const key of ["cursor", "limit"]) {
    const value = params.get(key);
    if (value) out.set(key, value);
  }
  return out;
}

export async function auditLoader({ request, context }: LoaderFunctionArgs) {
  await requireCapability(request, context, "audit.view");
  const url = new URL(request.url);
  const canonical = canonicalParams(url.searchParams);
  if (canonical.toString() !== url.searchParams.toString()) {
    const query = canonical.toString();
    throw redirect(`/audit${query ? `?${query}` : ""}`);
  }
  const parsed = auditFiltersFromSearchParams(url.searchParams);
  const limit = parseLimit(url.searchParams.get("limit"));
  const cursor = url.searchParams.get("cursor") || undefined;
  const raw: AuditFilters = {};
  for (const key of AUDIT_FILTER_KEYS) raw[key] = url.searchParams.get(key) ?? undefined;

  let error: string | null = null;
  let list: { items: PageEvent[]; nextCursor: string | null } = { items: [], nextCursor: null };
  if (!parsed.success) {
    error = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join(" ");
  } else {
    const caller = await callerFor(request, context);
    try {
      const page = await caller.audit.list({ ...parsed.data, cursor, limit: limit ?? DEFAULT_LIMIT });
      list = { items: page.items.map(pageEvent), nextCursor: page.nextCursor };
    } catch (e) {
      // A stale page link: say so, with the filters still in place.
      if (!(e instanceof TRPCError) || e.code !== "BAD_REQUEST") pageError(e, request);
      error = e.message;
    }
  }
  return data(
    {
      filters: parsed.success ? parsed.data : raw,
      limit,
      paged: Boolean(cursor),
      events: list.items,
      nextCursor: list.nextCursor,
      actions: KNOWN_AUDIT_ACTIONS,
      csrfToken: (await context.identity()).csrfToken,
      error,
    },
    { headers: { "Cache-Control": "no-store" } },
  );
}

type ListedEvent = Awaited<ReturnType<Awaited<ReturnType<typeof callerFor>>["audit"]["list"]>>["items"][number];

/** What the page shows of an event: hashes are shortened (they belong in exports), keeping the page small. */
function pageEvent(event: ListedEvent) {
  return {
    id: event.id,
    at: event.at,
    actorId: event.actorId,
    actorEmail: event.actorEmail,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    before: event.before,
    after: event.after,
    ip: event.ip,
    userAgent: event.userAgent,
    requestId: event.requestId,
    outcome: event.outcome,
    hash: event.hash.slice(0, 12),
  };
}
export type PageEvent = ReturnType<typeof pageEvent>;

export type VerifyAnswer = { ok: boolean; checked: number; firstBrokenId: number | null; brokenLink: string | null };

export async function auditAction({ request, context }: ActionFunctionArgs) {
  await requireCapability(request, context, "audit.view");
  const form = await request.formData();
  if (form.get("intent") !== "verify") {
    return data({ verify: null, error: "Unknown action. Reload the page and try again." }, { status: 400 });
  }
  const caller = await callerFor(request, context, undefined, { formCsrfToken: form.get("_csrf") });
  const result = await caller.audit.verify().catch((e) => pageError(e, request));
  // The broken event's own page of the list (newest first from it), scrolled to its row.
  const brokenLink =
    result.firstBrokenId === null ? null : `/audit?cursor=${cursorStartingAt(result.firstBrokenId)}#event-${result.firstBrokenId}`;
  return data(
    { verify: { ...result, brokenLink } satisfies VerifyAnswer, error: null },
    { headers: { "Cache-Control": "no-store" } },
  );
}
