import { z } from "zod";
import { loginPasswordSchema } from "../../auth/primitives/password-policy";
import { completeMfaLogin, login } from "../../services/auth.service";
import { recordAuditEvent } from "../../services/audit.service";
import { consumeRateLimit, POLICIES } from "../../services/rate-limit.service";
import { revokeSession, rotateRefreshToken } from "../../services/sessions.service";
import { DomainError } from "../../errors";
import { authedProcedure, publicProcedure, router } from "../init";
import { emailSchema } from "../schemas";

const tokensOut = (t: { accessToken: string; refreshToken: string; expiresAt: string }) => ({
  accessToken: t.accessToken,
  refreshToken: t.refreshToken,
  expiresAt: t.expiresAt,
});

export const authRouter = router({
  login: publicProcedure
    .input(
      z.object({
        email: emailSchema,
        password: loginPasswordSchema,
        // From an earlier successful sign-in of this client (ADR 019).
        deviceToken: z.string().max(2048).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const result = await login(ctx.em, ctx.config, input, ctx.audit);
      return result.status === "ok"
        ? { status: "ok" as const, ...tokensOut(result), deviceToken: result.deviceToken }
        : { status: "mfa_required" as const, mfaToken: result.mfaToken };
    }),

  verifyMfa: publicProcedure
    .input(z.object({ mfaToken: z.string().min(1).max(4096), code: z.string().min(6).max(32) }))
    .mutation(async ({ ctx, input }) => {
      const result = await completeMfaLogin(ctx.em, ctx.config, input, ctx.audit);
      return { ...tokensOut(result), deviceToken: result.deviceToken };
    }),

  refresh: publicProcedure
    .input(z.object({ refreshToken: z.string().min(1).max(4096) }))
    .mutation(async ({ ctx, input }) => {
      await consumeRateLimit(ctx.em.fork(), POLICIES.refresh, ctx.audit.ip ?? "unknown");
      const result = await rotateRefreshToken(ctx.em, ctx.config, input.refreshToken, ctx.audit);
      if (result.kind !== "rotated") {
        throw new DomainError(
          "CONFLICT",
          "A parallel request from this client refreshed this session a moment ago; use the tokens it received.",
        );
      }
      return tokensOut(result.tokens);
    }),

  logout: authedProcedure.mutation(async ({ ctx }) => {
    await ctx.em.transactional(async (tx) => {
      if (ctx.sessionId) await revokeSession(tx, ctx.sessionId, "logout");
      await recordAuditEvent(tx, ctx.config.secret, {
        actor: ctx.user,
        action: "LOGOUT",
        targetType: "session",
        targetId: ctx.sessionId,
        request: ctx.audit,
      });
    });
    return { ok: true as const };
  }),

  me: authedProcedure.query(({ ctx }) => ({
    id: ctx.user.id,
    email: ctx.user.email,
    role: ctx.user.role,
    mfaEnabled: ctx.user.mfaEnabled,
  })),
});
