import type { Server } from "node:http";
import path from "node:path";
import { createRequestHandler } from "@remix-run/express";
import type { ServerBuild } from "@remix-run/node";
import compression from "compression";
import express, { type Express, type Request as ExpressRequest, type Response as ExpressResponse } from "express";
import type { EntityManager } from "@mikro-orm/postgresql";
import { authenticate, type Identity } from "../auth/authenticate";
import type { AuditRequestInfo } from "../services/audit.service";
import { timingSafeEqual } from "node:crypto";
import { registry } from "../observability/app-metrics";
import { getSettings } from "../services/settings.service";
import { artifactRoutes } from "./artifact-routes";
import { auditExportRoute } from "./audit-export-route";
import { bodyLimit } from "./body-limit";
import { databaseOutageErrors, withDatabaseOutagePages } from "./database-outage";
import { hostImportRoute } from "./host-import-route";
import { trpcEndpoint } from "./trpc-endpoint";
import { accessLog, apiCors, requestId, securityHeaders } from "./middleware";
import type { RequestContext } from "./request-context";
import { readinessProbe, type Runtime } from "./runtime";

const READY_TIMEOUT_MS = 1_000;
/** `/favicon.svg`, `/robots.txt`: one segment with an extension. */
const TOP_LEVEL_FILE = /^\/[^/]+\.[a-z0-9]+$/i;

/**
 * The Express app: cross-cutting HTTP concerns here, everything else in Remix routes.
 * Without a Remix build (integration tests) the health endpoints and tRPC are served.
 */
/**
 * Uploads over slow ops links can take longer than Node's 5-minute request timeout, so it
 * is off; a stalled upload is ended by the upload route's own idle timer (408) instead.
 */
export function configureServerTimeouts(server: Server): void {
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
}

export function createHttpApp(runtime: Runtime, build?: ServerBuild): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", runtime.config.trustProxy);
  app.use(requestId(runtime.config.trustProxy > 0));
  app.use(accessLog(runtime.log));
  app.use(securityHeaders());

  app.use("/api/trpc", apiCors(runtime.config.allowedOrigins));
  app.get("/healthz", (_req, res) => {
    res.status(200).type("text/plain").send("ok\n");
  });
  app.get("/metrics", async (req, res) => {
    // Optional bearer token (setting metrics.endpointToken, or METRICS_TOKEN).
    const token = (await getSettings(runtime.orm.em.fork(), runtime.config))["metrics.endpointToken"];
    if (token && !bearerMatches(req.get("authorization"), token)) {
      res.status(401).setHeader("WWW-Authenticate", "Bearer").type("text/plain").send("bearer token required\n");
      return;
    }
    res.setHeader("Cache-Control", "no-store");
    res.type(registry.contentType).send(await registry.metrics());
  });
  app.get("/readyz", async (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    if (runtime.draining) {
      res.status(503).json({ ready: false, reason: "shutting down" });
      return;
    }
    const db = await readinessProbe(runtime).ping(READY_TIMEOUT_MS);
    res.status(db.ok ? 200 : 503).json({ ready: db.ok, database: db });
  });

  app.use(artifactRoutes(runtime, (req, res, em, info) => resolveIdentity(req, res, runtime, em, info)));
  app.use(auditExportRoute(runtime, (req, res, em, info) => resolveIdentity(req, res, runtime, em, info)));
  app.use(hostImportRoute(runtime, (req, res, em, info) => resolveIdentity(req, res, runtime, em, info)));
  // Everything after this reads its body whole (Remix actions, tRPC).
  app.use(bodyLimit(runtime));

  // Artifact downloads and exports are already compressed or streamed large; compressing
  // them would cost CPU for nothing (and break Range offsets).
  app.use(
    compression({
      filter: (req, res) =>
        !req.path.startsWith("/artifacts/") &&
        !req.path.startsWith("/audit/export") &&
        req.path !== "/hosts/export.csv" &&
        compression.filter(req, res),
    }),
  );
  // tRPC straight from Express, not through a Remix resource route: Remix's route
  // matching and streamed body cost a hosts.list call ~25% more CPU (ADR 025).
  app.all(/^\/api\/trpc(\/|$)/, trpcEndpoint((req, res) => requestContextFor(runtime, req, res)));
  if (build) {
    const publicDir = path.resolve("public");
    // File names under /build carry a content hash: cache them forever.
    app.use("/build", express.static(path.join(publicDir, "build"), { immutable: true, maxAge: "1y" }));
    // public/ holds top-level files (favicon.svg) besides build/: only a path naming a file
    // at the top level can be one. Any other request skipped a filesystem stat (8% of the
    // CPU of a tRPC call, ADR 025).
    const publicFiles = express.static(publicDir, { maxAge: "1h" });
    app.use((req, res, next) => (TOP_LEVEL_FILE.test(req.path) ? publicFiles(req, res, next) : next()));
    app.get("/favicon.ico", (_req, res) => res.redirect(301, "/favicon.svg"));
    // The contract's `/hosts/:id/metrics:update` (Google-style custom method) cannot be a
    // Remix route path; it is served by the `metrics-update` resource route.
    app.post(/^\/hosts\/([^/]+)\/metrics:update$/, (req, _res, next) => {
      req.url = req.originalUrl = req.originalUrl.replace(/\/metrics:update(?=$|\?)/, "/metrics-update");
      next();
    });
    app.all(
      "*",
      createRequestHandler({
        build: withDatabaseOutagePages(build),
        mode: build.mode,
        getLoadContext: (req, res) => requestContextFor(runtime, req, res),
      }),
    );
  }
  app.use(databaseOutageErrors());
  return app;
}

/** Authenticates from the request's headers; refreshed cookies go straight onto the response. */
async function resolveIdentity(
  req: ExpressRequest,
  res: ExpressResponse,
  runtime: Runtime,
  em: EntityManager,
  info: AuditRequestInfo,
): Promise<Identity> {
  const headers = new Headers();
  for (const name of ["authorization", "cookie"] as const) {
    const value = req.get(name);
    if (value) headers.set(name, value);
  }
  const url = `${req.protocol}://${req.get("host") ?? "localhost"}${req.originalUrl}`;
  const setCookies = new Headers();
  const identity = await authenticate(new Request(url, { headers }), em, runtime.config, setCookies, info);
  for (const cookie of setCookies.getSetCookie()) res.append("Set-Cookie", cookie);
  if (identity.user) res.locals.userId = identity.user.id;
  return identity;
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer\s+(\S+)$/i.exec(header ?? "")?.[1] ?? "");
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Per-request state for Remix loaders and the tRPC endpoint: a fresh EntityManager fork
 * (its own identity map), the request id, a child logger, and the caller's identity
 * resolved at most once.
 */
function requestContextFor(runtime: Runtime, req: ExpressRequest, res: ExpressResponse): RequestContext {
  const id = res.locals.requestId as string;
  const em = runtime.orm.em.fork();
  const ip = req.ip ?? null;
  const userAgent = req.get("user-agent") ?? null;
  let identity: Promise<Identity> | undefined;
  return {
    runtime,
    em,
    requestId: id,
    ip,
    userAgent,
    log: runtime.log.child({ requestId: id }),
    cspNonce: res.locals.cspNonce as string,
    setUserId: (userId) => {
      res.locals.userId = userId;
    },
    identity: () => {
      identity ??= resolveIdentity(req, res, runtime, em, { ip, userAgent, requestId: id });
      return identity;
    },
    resetIdentity: () => {
      identity = undefined;
    },
  };
}
