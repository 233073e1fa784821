import type { EntityManager } from "@mikro-orm/postgresql";
import type { Config } from "../config";
import type { Logger } from "../logger";
import type { Identity } from "../auth/authenticate";
import type { AuthMethod, SessionUser } from "../auth/session-user";
import type { AuditRequestInfo } from "../services/audit.service";
import type { RequestContext } from "../http/request-context";
import type { Runtime } from "../http/runtime";

export type TrpcContext = {
  runtime: Runtime;
  config: Config;
  em: EntityManager;
  log: Logger;
  requestId: string;
  request: Request;
  /** Headers to add to the response (cookies set by login, Retry-After …). */
  resHeaders: Headers;
  user: SessionUser | null;
  authMethod: AuthMethod;
  /** The session's CSRF token, for pages to put in their forms (cookie sessions only). */
  csrfToken: string | null;
  /** Client facts every audit event records. */
  audit: AuditRequestInfo;
};

export async function createTrpcContext(
  ctx: RequestContext,
  request: Request,
  resHeaders: Headers,
  identity: Identity,
): Promise<TrpcContext> {
  if (identity.user) ctx.setUserId(identity.user.id);
  return {
    runtime: ctx.runtime,
    config: ctx.runtime.config,
    em: ctx.em,
    log: identity.user ? ctx.log.child({ userId: identity.user.id }) : ctx.log,
    requestId: ctx.requestId,
    request,
    resHeaders,
    user: identity.user,
    authMethod: identity.authMethod,
    csrfToken: identity.csrfToken,
    audit: { ip: ctx.ip, userAgent: ctx.userAgent, requestId: ctx.requestId },
  };
}
