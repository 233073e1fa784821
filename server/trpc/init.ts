import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import { type Capability, roleCan } from "../auth/roles";
import { DomainError, toTrpcError, zodFieldErrors } from "../errors";
import { recordAccessDenied } from "../services/audit.service";
import { RateLimitedError, rateLimitHeaders } from "../services/rate-limit.service";
import type { TrpcContext } from "./context";

const t = initTRPC.context<TrpcContext>().create({
  // Zod's field errors travel with BAD_REQUEST so forms can show them beside each field.
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    // A domain error's state (e.g. "timeout") lets clients word each outcome without
    // parsing messages.
    const state = cause instanceof DomainError && typeof cause.details?.state === "string" ? cause.details.state : null;
    return {
      ...shape,
      data: {
        ...shape.data,
        stack: undefined,
        fieldErrors: cause instanceof ZodError ? zodFieldErrors(cause) : null,
        state,
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Maps domain errors to tRPC codes in one place and logs the unexpected ones. */
const mapDomainErrors = t.middleware(async function mapDomainErrors({ ctx, next, path, type }) {
  const result = await next();
  if (result.ok && type === "mutation") ctx.afterMutation();
  if (result.ok || result.error.code !== "INTERNAL_SERVER_ERROR") return result;
  // tRPC wraps anything thrown that is not a TRPCError as INTERNAL_SERVER_ERROR.
  const cause = result.error.cause ?? result.error;
  if (cause instanceof RateLimitedError) {
    for (const [name, value] of Object.entries(rateLimitHeaders(cause.state))) ctx.resHeaders.set(name, value);
  }
  const mapped = toTrpcError(cause);
  if (mapped.code === "INTERNAL_SERVER_ERROR") ctx.log.error({ err: cause, path }, "procedure failed");
  return { ...result, error: mapped };
});

export const publicProcedure = t.procedure.use(mapDomainErrors);

/** Records a refused authorization; in its own transaction, since the request fails. */
function auditDenied(ctx: TrpcContext, path: string, reason: string) {
  return recordAccessDenied(ctx.em, ctx.config.secret, {
    actor: { id: ctx.user?.id ?? null, email: ctx.user?.email ?? null, role: ctx.user?.role },
    targetType: "procedure",
    target: path,
    reason,
    request: ctx.audit,
  });
}

const requireUser = t.middleware(async function requireUser({ ctx, next, type, path }) {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first." });
  // A mutation riding on cookies must prove it came from our own pages.
  if (type === "mutation" && !ctx.csrfVerified) {
    await auditDenied(ctx, path, "csrf");
    throw new TRPCError({
      code: "FORBIDDEN",
      message: "This request did not come from an OpsDesk page (missing or invalid CSRF token). Reload the page and try again.",
    });
  }
  return next({ ctx: { ...ctx, user: ctx.user } });
});

/** Any signed-in user (narrows `ctx.user` to non-null). */
export const authedProcedure = publicProcedure.use(requireUser);

/** A signed-in user whose role has the capability (roles table in server/auth/roles.ts). */
export function capabilityProcedure(capability: Capability) {
  return authedProcedure.use(async function requireCapability({ ctx, next, path }) {
    if (!roleCan(ctx.user.role, capability)) {
      await auditDenied(ctx, path, capability);
      throw new TRPCError({ code: "FORBIDDEN", message: `Your role (${ctx.user.role}) cannot do this.` });
    }
    return next();
  });
}
