import type { Request as ExpressRequest, Response as ExpressResponse, NextFunction, RequestHandler } from "express";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { DATABASE_RETRY_AFTER_SECONDS } from "../errors";
import { appRouter } from "../trpc/root";
import { trpcContextFor } from "../trpc/request-context";
import type { RequestContext } from "./request-context";

/** A batch of many calls is one request but many procedure runs; cap it. */
export const MAX_BATCH_SIZE = 20;

/**
 * `GET|POST /api/trpc/*`: the tRPC fetch adapter, served by Express. The request body was
 * capped before it got here (bodyLimit: every call declares its length), so it is read
 * whole; the answer is sent as one body with its length.
 */
export function trpcEndpoint(contextFor: (req: ExpressRequest, res: ExpressResponse) => RequestContext): RequestHandler {
  return async (req: ExpressRequest, res: ExpressResponse, next: NextFunction) => {
    try {
      const context = contextFor(req, res);
      const request = await fetchRequestOf(req, res);
      const response = await fetchRequestHandler({
        endpoint: "/api/trpc",
        req: request,
        router: appRouter,
        maxBatchSize: MAX_BATCH_SIZE,
        createContext: ({ resHeaders }) => trpcContextFor(request, context, resHeaders),
        responseMeta: ({ errors }) => ({
          headers: {
            "Cache-Control": "no-store",
            // The database is away: tell scripts when to try again (ADR 017).
            ...(errors.some((e) => e.code === "SERVICE_UNAVAILABLE") ? { "Retry-After": String(DATABASE_RETRY_AFTER_SECONDS) } : {}),
          },
        }),
      });
      const body = Buffer.from(await response.arrayBuffer());
      res.status(response.status);
      response.headers.forEach((value, name) => {
        if (name !== "set-cookie") res.setHeader(name, value);
      });
      for (const cookie of response.headers.getSetCookie()) res.append("Set-Cookie", cookie);
      res.setHeader("Content-Length", body.byteLength);
      res.end(body);
    } catch (error) {
      next(error);
    }
  };
}

/** The Express request as a fetch Request; aborted when the client goes away first. */
async function fetchRequestOf(req: ExpressRequest, res: ExpressResponse): Promise<Request> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const one of value) headers.append(name, one);
    else if (value !== undefined) headers.set(name, value);
  }
  const controller = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(`${req.protocol}://${req.get("host") ?? "localhost"}${req.originalUrl}`, {
    method: req.method,
    headers,
    body: hasBody ? await readBody(req) : undefined,
    signal: controller.signal,
  });
}

/** tRPC bodies are JSON text (UTF-8). */
async function readBody(req: ExpressRequest): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
