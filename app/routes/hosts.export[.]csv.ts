import type { LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { roleCan } from "../../server/auth/roles";
import { exportHostsCsv, recordHostsExport } from "../../server/services/hosts/host-export";
import { HOST_SORTS } from "../../server/services/hosts/host-list";
import { hostFiltersSchema } from "../../server/trpc/routers/hosts";
import { redirectToLogin } from "../trpc/caller.server";

/**
 * GET /hosts/export.csv?q&environment&tags&sort — the filtered host list as CSV (the
 * import's columns), streamed page by page. Browsers without a session are sent to sign
 * in; scripts (Authorization header) get a plain 401/403.
 */
const exportFiltersSchema = hostFiltersSchema.extend({ sort: z.enum(HOST_SORTS).optional() });

function plain(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(`${message}\n`, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", ...headers },
  });
}

/** Blank parameters mean "no filter"; tags may repeat or be one comma-separated value. */
function filtersFrom(params: URLSearchParams) {
  const blankToUndefined = (value: string | null) => (value === null || value.trim() === "" ? undefined : value);
  const tags = params
    .getAll("tags")
    .flatMap((value) => value.split(","))
    .filter((tag) => tag.trim() !== "");
  return exportFiltersSchema.safeParse({
    q: blankToUndefined(params.get("q")),
    environment: blankToUndefined(params.get("environment")),
    tags: tags.length ? tags : undefined,
    sort: blankToUndefined(params.get("sort")),
  });
}

export async function loader({ request, context }: LoaderFunctionArgs) {
  const identity = await context.identity();
  const usesHeader = request.headers.has("authorization");
  if (!identity.user) {
    if (usesHeader) return plain(401, "Sign in first: the token is missing, invalid or expired.", { "WWW-Authenticate": "Bearer" });
    throw redirectToLogin(request);
  }
  const user = identity.user;
  context.setUserId(user.id);
  if (!roleCan(user.role, "hosts.view")) return plain(403, `Your role (${user.role}) cannot export hosts.`);

  const parsed = filtersFrom(new URL(request.url).searchParams);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return plain(400, `Invalid filter${issue?.path.length ? ` ${issue.path.join(".")}` : ""}: ${issue?.message ?? "invalid input"}`);
  }
  const { sort, ...filters } = parsed.data;
  await recordHostsExport(
    context.em,
    context.runtime.config,
    { id: user.id, email: user.email },
    { ...filters, sort },
    { ip: context.ip, userAgent: context.userAgent, requestId: context.requestId },
  );

  const rows = exportHostsCsv(context.em, { ...filters, sort });
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        // A page may yield "" (no rows); keep pulling until there is something to send.
        for (;;) {
          const next = await rows.next();
          if (next.done) {
            controller.close();
            return;
          }
          if (next.value) {
            controller.enqueue(encoder.encode(next.value));
            return;
          }
        }
      } catch (error) {
        context.log.error({ err: error }, "hosts CSV export failed mid-stream");
        controller.error(error);
      }
    },
    async cancel() {
      await rows.return(undefined);
    },
  });

  return new Response(body, {
    status: 200,
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": 'attachment; filename="hosts.csv"',
      "Cache-Control": "no-store",
    },
  });
}
