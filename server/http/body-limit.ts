import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import type { NextFunction, Request, Response } from "express";
import { formatBytes } from "../domain/format-bytes";
import { getSettings } from "../services/settings.service";
import type { Runtime } from "./runtime";

/**
 * Caps the bodies that Remix actions and tRPC read whole (request.formData(), the tRPC
 * JSON), before a byte is read: without it one request with a multi-gigabyte body, signed
 * in or not, would be held in memory until the process died. Routes that stream their
 * bodies with limits of their own (CSV import, artifact upload) are served before this
 * or listed in READS_WITH_OWN_LIMITS.
 *
 * - A form post may be up to 1 MiB (forms here are a few KB).
 * - A tRPC call may be up to twice the import limit plus 1 MiB: hosts.importCsv carries
 *   a CSV inside a JSON string, where escaping can double it.
 * - A body must declare its length: one sent in chunks could not be refused up front, so
 *   it is answered 411 (Length Required). Browsers and fetch with a string or form body
 *   always send Content-Length.
 */
export function bodyLimit(runtime: Runtime) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (!hasBody(req) || READS_WITH_OWN_LIMITS.has(req.path)) return next();
    const isTrpc = req.path.startsWith("/api/trpc");
    const declared = req.get("content-length");
    if (declared === undefined) {
      refuse(req, res, isTrpc, 411, "Send the request body with a Content-Length header.", "BAD_REQUEST");
      return;
    }
    const size = Number(declared);
    if (size <= FORM_MAX_BYTES) return next();
    let limit = FORM_MAX_BYTES;
    if (isTrpc) {
      try {
        const settings = await getSettings(runtime.orm.em.fork(), runtime.config);
        limit = 2 * settings["import.maxBytes"] + FORM_MAX_BYTES;
      } catch (error) {
        next(error);
        return;
      }
    }
    if (size <= limit) return next();
    refuse(req, res, isTrpc, 413, `The request body is ${formatBytes(size)}; at most ${formatBytes(limit)} is accepted here.`, "PAYLOAD_TOO_LARGE");
  };
}

const FORM_MAX_BYTES = 1024 * 1024;
/**
 * The import page's form posts carry a CSV file or pasted text; they read the form as a
 * stream and refuse it past the import limit themselves (app/utils/host-import.server.ts).
 */
const READS_WITH_OWN_LIMITS = new Set(["/hosts/import", "/hosts/import/upload"]);

function hasBody(req: Request): boolean {
  if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") return false;
  const length = req.get("content-length");
  return length === undefined ? req.get("transfer-encoding") !== undefined : length !== "0";
}

/** Answers in the caller's format (a tRPC error envelope, or text for a page) and closes the connection. */
function refuse(req: Request, res: Response, isTrpc: boolean, status: 411 | 413, message: string, code: "BAD_REQUEST" | "PAYLOAD_TOO_LARGE"): void {
  // The unread body would otherwise be read (and discarded) to keep the connection alive.
  res.setHeader("Connection", "close");
  if (isTrpc) {
    const path = req.path.replace(/^\/api\/trpc\/?/, "");
    res.status(status).json({ error: { message, code: TRPC_ERROR_CODES_BY_KEY[code], data: { code, httpStatus: status, path } } });
  } else {
    res.status(status).type("text/plain").send(`${message}\n`);
  }
}
