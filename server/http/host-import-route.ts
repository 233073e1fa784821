import type { Request, Response, Router } from "express";
import express from "express";
import { z } from "zod";
import { CSRF_HEADER, csrfTokenMatches } from "../auth/csrf";
import { DomainError, httpStatusOf } from "../errors";
import { importHosts } from "../services/hosts/host-import";
import { HttpProblem, requireRouteCapability, type ResolveIdentity, type RouteAuth, sendProblem } from "./route-guard";
import type { Runtime } from "./runtime";

/**
 * `POST /hosts/import.csv?dryRun=true|false&delimiter=auto|,|;&fileName=…&runId=<uuid>` with
 * the CSV as the request body (`Content-Type: text/csv`): the streaming twin of
 * `hosts.importCsv`. A `runId` chosen by the client lets it (or anyone signed in as the
 * same user, through any instance) follow the run with `hosts.importStatus` meanwhile.
 * The body goes straight into the parser, so a file of a million rows is never held in
 * memory (a tRPC call carries the whole file as one JSON string). Answers the same
 * result as the procedure, as JSON.
 */
export function hostImportRoute(runtime: Runtime, resolveIdentity: ResolveIdentity): Router {
  const router = express.Router();
  router.post("/hosts/import.csv", (req, res, next) => void importCsv(runtime, resolveIdentity, req, res).catch(next));
  return router;
}

const DELIMITERS = { auto: "auto", ",": ",", ";": ";", comma: ",", semicolon: ";" } as const;

async function importCsv(runtime: Runtime, resolveIdentity: ResolveIdentity, req: Request, res: Response) {
  let auth: RouteAuth;
  try {
    auth = await requireRouteCapability(runtime, resolveIdentity, req, res, "hosts.write");
    if (auth.identity.authMethod === "cookie" && !csrfTokenMatches(auth.identity.csrfToken, req.get(CSRF_HEADER))) {
      throw new HttpProblem(403, "This request did not come from an OpsDesk page (missing or invalid CSRF token).");
    }
  } catch (error) {
    if (error instanceof HttpProblem) return sendProblem(req, res, error.status, error.message);
    throw error;
  }
  const params = new URL(req.originalUrl, "http://localhost").searchParams;
  const dryRun = params.get("dryRun") !== "false";
  const delimiter = DELIMITERS[(params.get("delimiter") ?? "auto") as keyof typeof DELIMITERS];
  if (!delimiter) return sendProblem(req, res, 400, 'Unknown delimiter: use auto, "," or ";".');
  const fileName = params.get("fileName")?.slice(0, 255) ?? null;
  const runId = params.get("runId") ?? undefined;
  if (runId !== undefined && !z.uuid().safeParse(runId).success) return sendProblem(req, res, 400, "runId must be a UUID.");
  const declaredBytes = Number(req.get("content-length"));
  try {
    const result = await importHosts(
      auth.em,
      runtime.config,
      auth.user,
      {
        content: req as AsyncIterable<Buffer>,
        declaredBytes: Number.isSafeInteger(declaredBytes) && declaredBytes >= 0 ? declaredBytes : null,
        dryRun,
        delimiter,
        fileName,
        runId,
      },
      auth.info,
    );
    res.setHeader("Cache-Control", "no-store");
    res.status(200).json(result);
  } catch (error) {
    if (error instanceof DomainError) return sendProblem(req, res, httpStatusOf(error), error.message);
    throw error;
  }
}
