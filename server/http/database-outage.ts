import type { ServerBuild } from "@remix-run/node";
import type { ErrorRequestHandler } from "express";
import { TRPCError } from "@trpc/server";
import { DATABASE_RETRY_AFTER_SECONDS, DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from "../errors";

type DataFunction = (args: unknown) => unknown;

/**
 * Wraps every route's loader and action so that a request which cannot reach PostgreSQL
 * answers 503 with `Retry-After` and the error page's message, whatever the route does
 * with other errors: never a redirect to /login, never cleared cookies (ADR 017).
 * Done once on the build instead of in each route, so a new route cannot forget it.
 */
export function withDatabaseOutagePages(build: ServerBuild): ServerBuild {
  const routes: ServerBuild["routes"] = {};
  for (const [id, route] of Object.entries(build.routes)) {
    const module = { ...route.module } as Record<string, unknown>;
    for (const name of ["loader", "action"] as const) {
      const fn = module[name] as DataFunction | undefined;
      if (fn) module[name] = wrap(fn);
    }
    routes[id] = { ...route, module: module as unknown as typeof route.module };
  }
  return { ...build, routes };
}

function wrap(fn: DataFunction): DataFunction {
  return async (args) => {
    try {
      return await fn(args);
    } catch (error) {
      if (isOutage(error)) {
        throw new Response(DATABASE_UNAVAILABLE_MESSAGE, {
          status: 503,
          statusText: "Service Unavailable",
          headers: { "Retry-After": String(DATABASE_RETRY_AFTER_SECONDS), "Cache-Control": "no-store" },
        });
      }
      throw error;
    }
  };
}

function isOutage(error: unknown): boolean {
  // pageError() has already turned a SERVICE_UNAVAILABLE procedure error into a 503.
  if (error instanceof Response) return error.status === 503;
  if (error instanceof TRPCError) return error.code === "SERVICE_UNAVAILABLE" || isDatabaseUnavailable(error.cause);
  return isDatabaseUnavailable(error);
}

/**
 * The same answer for the Express routes outside Remix (uploads, downloads, exports,
 * streamed imports): JSON for API clients, a plain page for a browser.
 */
export function databaseOutageErrors(): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent || !isDatabaseUnavailable(error)) return next(error);
    res.status(503).setHeader("Retry-After", String(DATABASE_RETRY_AFTER_SECONDS)).setHeader("Cache-Control", "no-store");
    const wantsJson = Boolean(req.get("authorization")) || req.accepts(["html", "json"]) === "json";
    if (wantsJson) res.json({ error: { code: "SERVICE_UNAVAILABLE", message: DATABASE_UNAVAILABLE_MESSAGE } });
    else res.type("html").send(`<!doctype html><html lang="en"><title>503 · Temporarily unavailable</title><main><h1>503 · Temporarily unavailable</h1><p>${DATABASE_UNAVAILABLE_MESSAGE}</p></main></html>`);
  };
}
