import type { LoaderFunctionArgs } from "@remix-run/node";
import { csvLine } from "../../server/domain/csv/csv-cell";
import { requireCapability } from "../utils/guards.server";
import { importRunErrors } from "../utils/host-import.server";

/**
 * GET /hosts/import/:runId/errors.csv — a dry run's errors as CSV (line, column,
 * message), for the person who ran it only: anyone else gets 404, as for an expired run.
 */
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const user = await requireCapability(request, context, "hosts.write");
  const errors = await importRunErrors(context, user.id, params.runId ?? "");
  if (!errors) {
    throw new Response("That import run has expired or is not yours. Upload the file again.", { status: 404 });
  }
  const body = csvLine(["line", "column", "message"]) + errors.map((e) => csvLine([e.line, e.column, e.message])).join("");
  return new Response(body, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": 'attachment; filename="import-errors.csv"',
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    },
  });
}
