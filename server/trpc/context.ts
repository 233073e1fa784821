import type { EntityManager } from "@mikro-orm/postgresql";
import type { Identity } from "../auth/authenticate";
import { CSRF_HEADER, csrfTokenMatches, sameOrigin } from "../auth/csrf";
import type { AuthMethod, SessionUser } from "../auth/session-user";
import type { Config } from "../config";
import type { RequestContext } from "../http/request-context";
import type { Runtime } from "../http/runtime";
import type { Logger } from "../logger";
import type { AuditRequestInfo } from "../services/audit.service";

export type TrpcContext = {
  runtime: Runtime;
  config: Config;
  em: EntityManager;
  log: Logger;
  requestId: string;
  request: Request;
  /** Headers to add to the response (cookies, Retry-After …). */
  resHeaders: Headers;
  user: SessionUser | null;
  authMethod: AuthMethod;
  sessionId: string | null;
  /** The session's CSRF token, for pages to put in their forms (cookie sessions only). */
  csrfToken: string | null;
  /**
   * True when a cookie-authenticated request proved it came from our pages (Origin check
   * plus the session's token in a header or form field); always true for Bearer requests.
   */
  csrfVerified: boolean;
  /** Client facts every audit event records. */
  audit: AuditRequestInfo;
  /** Called after a successful mutation (the request's identity may have changed). */
  afterMutation: () => void;
};

export type ContextOptions = {
  /** The `_csrf` field of a submitted form, for actions that call mutations. */
  formCsrfToken?: FormDataEntryValue | null;
};

export async function createTrpcContext(
  ctx: RequestContext,
  request: Request,
  resHeaders: Headers,
  identity: Identity,
  options: ContextOptions = {},
): Promise<TrpcContext> {
  if (identity.user) ctx.setUserId(identity.user.id);
  const submitted = request.headers.get(CSRF_HEADER) ?? options.formCsrfToken ?? null;
  const csrfVerified =
    identity.authMethod !== "cookie" || (sameOrigin(request) && csrfTokenMatches(identity.csrfToken, submitted));
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
    sessionId: identity.sessionId,
    csrfToken: identity.csrfToken,
    csrfVerified,
    audit: { ip: ctx.ip, userAgent: ctx.userAgent, requestId: ctx.requestId },
    afterMutation: ctx.resetIdentity,
  };
}
