import type { Request, Response, Router } from "express";
import express from "express";
import {
  AUDIT_CSV_HEADER,
  auditCsvCopySql,
  auditExportBatches,
  auditFiltersFromSearchParams,
  auditJsonLine,
  recordAuditExport,
} from "../services/audit-query.service";
import { copyOut, crlfRowEnds } from "../services/pg-copy";
import { HttpProblem, requireRouteCapability, type ResolveIdentity, type RouteAuth, sendProblem } from "./route-guard";
import type { Runtime } from "./runtime";

/**
 * GET /audit/export?format=csv|jsonl&actor&action&targetType&targetId&from&to — the
 * filtered audit log, oldest first, streamed from keyset batches straight onto the socket
 * with backpressure (see ADR 010: streaming routes are served by Express, not Remix). Same
 * authorization as `audit.list`; the export is audited before its first byte.
 */
const FORMATS = {
  csv: { contentType: "text/csv; charset=utf-8", extension: "csv" },
  jsonl: { contentType: "application/x-ndjson", extension: "jsonl" },
} as const;
type Format = keyof typeof FORMATS;
const isFormat = (value: unknown): value is Format => typeof value === "string" && Object.hasOwn(FORMATS, value);

export function auditExportRoute(runtime: Runtime, resolveIdentity: ResolveIdentity): Router {
  const router = express.Router();
  router.get("/audit/export", (req, res, next) => void exportAudit(runtime, resolveIdentity, req, res).catch(next));
  return router;
}

function plain(res: Response, status: number, message: string) {
  res.status(status).setHeader("Cache-Control", "no-store");
  res.type("text/plain").send(`${message}\n`);
}

async function exportAudit(runtime: Runtime, resolveIdentity: ResolveIdentity, req: Request, res: Response) {
  let auth: RouteAuth;
  try {
    auth = await requireRouteCapability(runtime, resolveIdentity, req, res, "audit.view");
  } catch (error) {
    if (error instanceof HttpProblem) return sendProblem(req, res, error.status, error.message);
    throw error;
  }
  const { em, info, user } = auth;

  const params = new URL(req.originalUrl, "http://localhost").searchParams;
  const format = params.get("format") ?? "csv";
  if (!isFormat(format)) return plain(res, 400, 'Unknown format: use format=csv or format=jsonl.');
  const parsed = auditFiltersFromSearchParams(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return plain(res, 400, `Invalid filter${issue?.path.length ? ` ${issue.path.join(".")}` : ""}: ${issue?.message ?? "invalid input"}`);
  }
  const filters = parsed.data;

  const recorded = await recordAuditExport(em, runtime.config.secret, user, filters, format, info);

  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
  res.status(200);
  res.setHeader("Content-Type", FORMATS[format].contentType);
  res.setHeader("Content-Disposition", `attachment; filename="audit-${stamp}.${FORMATS[format].extension}"`);
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("X-Content-Type-Options", "nosniff");

  if (format === "csv") {
    // PostgreSQL formats the CSV (COPY … TO STDOUT); the app passes bytes on with
    // backpressure, ending rows with CRLF.
    res.write(AUDIT_CSV_HEADER);
    try {
      await copyOut(em, auditCsvCopySql(em, filters, recorded.id), res, crlfRowEnds());
      if (!res.destroyed) res.end();
    } catch (error) {
      runtime.log.error({ err: error }, "audit export failed mid-stream");
      res.destroy(error instanceof Error ? error : new Error(String(error)));
    }
    return;
  }
  const line = auditJsonLine;
  const batches = auditExportBatches(em, filters, recorded.id);
  let clientGone = false;
  res.on("close", () => {
    clientGone = !res.writableFinished;
  });
  try {
    for await (const rows of batches) {
      // One string (and one write) per batch: far fewer syscalls and chunks than a write per row.
      let chunk = "";
      for (const row of rows) chunk += line(row);
      if (clientGone) break;
      if (!res.write(chunk)) {
        // Backpressure: wait until the socket drained (or the client left) before the next batch.
        await drainedOrClosed(res);
        if (clientGone || res.destroyed) break;
      }
    }
    if (!clientGone && !res.destroyed) res.end();
  } catch (error) {
    runtime.log.error({ err: error }, "audit export failed mid-stream");
    // Headers are gone: cutting the connection is the only way to tell the client the file is incomplete.
    res.destroy(error instanceof Error ? error : new Error(String(error)));
  } finally {
    await batches.return(undefined);
  }
}

/** Resolves on "drain" or "close", whichever comes first, leaving no listener behind. */
function drainedOrClosed(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
