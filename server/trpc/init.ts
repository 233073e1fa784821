import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import { type Capability, roleCan } from "../auth/roles";
import { toTrpcError, zodFieldErrors } from "../errors";
import type { TrpcContext } from "./context";

const t = initTRPC.context<TrpcContext>().create({
  // Zod's field errors travel with BAD_REQUEST so forms can show them beside each field.
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    return {
      ...shape,
      data: {
        ...shape.data,
        stack: undefined,
        fieldErrors: cause instanceof ZodError ? zodFieldErrors(cause) : null,
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const middleware = t.middleware;

/** Maps domain errors to tRPC codes in one place and logs the unexpected ones. */
const mapDomainErrors = t.middleware(async function mapDomainErrors({ ctx, next, path }) {
  const result = await next();
  if (result.ok || result.error.code !== "INTERNAL_SERVER_ERROR") return result;
  // tRPC wraps anything thrown that is not a TRPCError as INTERNAL_SERVER_ERROR.
  const mapped = toTrpcError(result.error.cause ?? result.error);
  if (mapped.code === "INTERNAL_SERVER_ERROR") {
    ctx.log.error({ err: result.error.cause ?? result.error, path }, "procedure failed");
  }
  return { ...result, error: mapped };
});

export const publicProcedure = t.procedure.use(mapDomainErrors);

const requireUser = t.middleware(function requireUser({ ctx, next }) {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first." });
  return next({ ctx: { ...ctx, user: ctx.user } });
});

/** Any signed-in user (narrows `ctx.user` to non-null). */
export const authedProcedure = publicProcedure.use(requireUser);

/** A signed-in user whose role has the capability (roles table in server/auth/roles.ts). */
export function capabilityProcedure(capability: Capability) {
  return authedProcedure.use(function requireCapability({ ctx, next }) {
    if (!roleCan(ctx.user.role, capability)) {
      throw new TRPCError({ code: "FORBIDDEN", message: `Your role (${ctx.user.role}) cannot do this.` });
    }
    return next();
  });
}
