import { z } from "zod";
import { loginPasswordSchema, passwordSchema } from "../../auth/primitives/password-policy";
import { createApiToken, listApiTokens, revokeApiToken } from "../../services/api-tokens.service";
import { beginMfaEnrolment, confirmMfaEnrolment, disableOwnMfa } from "../../services/mfa.service";
import { changePassword } from "../../services/users.service";
import { authedProcedure, router } from "../init";
import { pageInput } from "../schemas";

const codeInput = z.object({ code: z.string().trim().min(6, "Enter the 6-digit code or a recovery code.").max(32) });

export const accountRouter = router({
  changePassword: authedProcedure
    .input(z.object({ currentPassword: loginPasswordSchema, newPassword: passwordSchema }))
    .mutation(async ({ ctx, input }) => {
      await changePassword(ctx.em, ctx.config, ctx.user, input, ctx.sessionId, ctx.audit);
      return { ok: true as const };
    }),

  mfa: router({
    begin: authedProcedure.mutation(({ ctx }) => beginMfaEnrolment(ctx.em, ctx.config, ctx.user, ctx.audit)),
    confirm: authedProcedure
      .input(codeInput)
      .mutation(({ ctx, input }) => confirmMfaEnrolment(ctx.em, ctx.config, ctx.user, input.code, ctx.audit)),
    disable: authedProcedure.input(codeInput).mutation(async ({ ctx, input }) => {
      await disableOwnMfa(ctx.em, ctx.config, ctx.user, input.code, ctx.audit);
      return { ok: true as const };
    }),
  }),

  tokens: router({
    create: authedProcedure
      .input(
        z.object({
          name: z.string().trim().min(1, "Give the token a name.").max(100),
          expiresInDays: z.number().int().min(1).max(365, "A token can live at most 365 days.").default(90),
        }),
      )
      .mutation(({ ctx, input }) => createApiToken(ctx.em, ctx.config, ctx.user, input, ctx.audit)),
    list: authedProcedure
      .input(pageInput.optional())
      .query(({ ctx, input }) =>
        listApiTokens(ctx.em, ctx.user.id, { cursor: input?.cursor, limit: input?.limit ?? 50 }),
      ),
    revoke: authedProcedure
      .input(z.object({ id: z.uuid() }))
      .mutation(({ ctx, input }) => revokeApiToken(ctx.em, ctx.config, ctx.user, input.id, ctx.audit)),
  }),
});
