import { randomBytes, randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "../logger";
import { httpDuration, httpErrors, httpRequests, routeLabel } from "../observability/app-metrics";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Every request gets an id, returned as X-Request-Id. An incoming one is honoured only
 * behind a trusted proxy: otherwise any client could forge ids into our logs and audit.
 */
export function requestId(trustIncoming: boolean) {
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = req.get("x-request-id");
    const id = trustIncoming && incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.setHeader("X-Request-Id", id);
    next();
  };
}

/** One JSON line per request; never headers, bodies or query strings (tokens live there). */
export function accessLog(log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const line = {
        requestId: res.locals.requestId as string,
        method: req.method,
        path: req.path,
        status: res.statusCode,
        durationMs: Math.round(durationMs * 10) / 10,
        userId: (res.locals.userId as number | undefined) ?? null,
      };
      if (res.statusCode >= 500) log.error(line, "request");
      else log.info(line, "request");
      const route = routeLabel(req.path);
      httpRequests.inc({ route, method: req.method, status: `${Math.floor(res.statusCode / 100)}xx` });
      httpDuration.observe({ route, method: req.method }, durationMs / 1000);
      if (res.statusCode >= 500) httpErrors.inc({ route });
    });
    next();
  };
}

/**
 * Security headers for every response. Scripts run only with this response's nonce (Remix
 * renders it on its inline scripts) or from our own origin, styles likewise (the inlined
 * stylesheet carries the nonce); nothing may frame us.
 */
export function securityHeaders() {
  return (_req: Request, res: Response, next: NextFunction) => {
    const nonce = randomBytes(16).toString("base64");
    res.locals.cspNonce = nonce;
    res.setHeader(
      "Content-Security-Policy",
      [
        "default-src 'self'",
        `script-src 'self' 'nonce-${nonce}'`,
        // The nonce admits the inlined stylesheet (app/components/inline-stylesheet.tsx).
        `style-src 'self' 'nonce-${nonce}'`,
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
      ].join("; "),
    );
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("X-Frame-Options", "DENY");
    res.setHeader("Referrer-Policy", "same-origin");
    res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
    res.setHeader("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
    next();
  };
}

/**
 * CORS for /api/trpc, only for the configured origins, and without credentials: a page
 * elsewhere may call the API with a Bearer token, never with a user's cookies.
 */
export function apiCors(allowedOrigins: string[]) {
  const allowed = new Set(allowedOrigins);
  return (req: Request, res: Response, next: NextFunction) => {
    const origin = req.get("origin");
    if (origin && allowed.has(origin)) {
      res.setHeader("Access-Control-Allow-Origin", origin);
      res.setHeader("Access-Control-Allow-Headers", "authorization, content-type, trpc-accept");
      res.setHeader("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      res.setHeader("Access-Control-Max-Age", "600");
    }
    res.append("Vary", "Origin");
    if (req.method === "OPTIONS") {
      res.status(origin && allowed.has(origin) ? 204 : 403).end();
      return;
    }
    next();
  };
}
