import type { EntityManager } from "@mikro-orm/postgresql";
import type { Request, Response } from "express";
import type { Identity } from "../auth/authenticate";
import { type Capability, roleCan } from "../auth/roles";
import type { SessionUser } from "../auth/session-user";
import { type AuditRequestInfo, recordAccessDenied } from "../services/audit.service";
import type { Runtime } from "./runtime";

/**
 * Authorization and error answers for the streaming routes Express serves directly
 * (ADR 010): the same identity and roles table as every procedure, one way to refuse.
 */
export type ResolveIdentity = (req: Request, res: Response, em: EntityManager, info: AuditRequestInfo) => Promise<Identity>;

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function requestInfo(req: Request, res: Response): AuditRequestInfo {
  return { ip: req.ip ?? null, userAgent: req.get("user-agent") ?? null, requestId: (res.locals.requestId as string) ?? null };
}

/** Scripts (Bearer) and fetch calls asking for JSON get JSON; browsers get pages and redirects. */
export const wantsJson = (req: Request) =>
  /^Bearer\s/i.test(req.get("authorization") ?? "") || (req.get("accept") ?? "").includes("application/json");

export type RouteAuth = { identity: Identity; user: SessionUser; em: EntityManager; info: AuditRequestInfo };

/**
 * The signed-in user whose role has the capability, or an HttpProblem (401, or 403 which
 * is audited as ACCESS_DENIED). Cookie sessions must also come from our own origin.
 */
export async function requireRouteCapability(
  runtime: Runtime,
  resolveIdentity: ResolveIdentity,
  req: Request,
  res: Response,
  capability: Capability,
): Promise<RouteAuth> {
  const em = runtime.orm.em.fork();
  const info = requestInfo(req, res);
  const identity = await resolveIdentity(req, res, em, info);
  const user = identity.user;
  if (!user) throw new HttpProblem(401, "Sign in first: the token is missing, invalid or expired.");
  if (!roleCan(user.role, capability)) {
    await recordAccessDenied(em, runtime.config.secret, {
      actor: user,
      targetType: "route",
      target: `${req.method} ${req.route?.path ?? req.path}`,
      reason: capability,
      request: info,
    });
    throw new HttpProblem(403, `Your role (${user.role}) cannot do this.`);
  }
  if (req.method !== "GET" && req.method !== "HEAD" && identity.authMethod === "cookie" && !sameOriginRequest(req)) {
    throw new HttpProblem(403, "Cross-site request refused.");
  }
  return { identity, user, em, info };
}

function sameOriginRequest(req: Request): boolean {
  const origin = req.get("origin");
  return !origin || origin === `${req.protocol}://${req.get("host")}`;
}

/**
 * Answers a refusal: JSON for API clients, a sign-in redirect for a browser that is not
 * signed in, a 303 to `formReturn` (when given) for a browser's plain form post, so the
 * page it came from says what went wrong, plain text otherwise. A request body still
 * arriving is read (and dropped) for a moment so the client is listening when the answer
 * comes, then the connection closes: a client that gets EPIPE mid-upload never sees why
 * it was refused.
 */
export function sendProblem(
  req: Request,
  res: Response,
  status: number,
  message: string,
  redirectTo?: string,
  formReturn?: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // Only a browser (asking for HTML, no Authorization header) is sent to sign in; a script
  // or curl gets a status it can act on.
  if (status === 401 && !req.get("authorization") && (req.get("accept") ?? "").includes("text/html")) {
    res.redirect(303, `/login?redirectTo=${encodeURIComponent(redirectTo ?? req.originalUrl)}`);
    return;
  }
  if (status === 401) res.setHeader("WWW-Authenticate", "Bearer");
  res.setHeader("Cache-Control", "no-store");
  if (!req.complete) {
    res.setHeader("Connection", "close");
    drainThenClose(req);
  }
  if (wantsJson(req)) res.status(status).json({ error: { status, message } });
  else if (formReturn) res.redirect(303, formReturn);
  else res.status(status).type("text/plain").send(`${message}\n`);
}

const DRAIN_LIMIT_BYTES = 32 * 1024 * 1024;
const DRAIN_LIMIT_MS = 5_000;

function drainThenClose(req: Request): void {
  let drained = 0;
  const stop = setTimeout(() => req.destroy(), DRAIN_LIMIT_MS);
  stop.unref();
  req.on("data", (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_LIMIT_BYTES) req.destroy();
  });
  req.on("end", () => clearTimeout(stop));
  req.resume();
}
