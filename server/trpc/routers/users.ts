import { z } from "zod";
import { passwordSchema } from "../../auth/primitives/password-policy";
import { ROLES } from "../../auth/roles";
import { clearMfa } from "../../services/mfa.service";
import { createUser, listUsers, updateUser } from "../../services/users.service";
import { capabilityProcedure, router } from "../init";
import { emailSchema, pageInput } from "../schemas";

const adminProcedure = capabilityProcedure("admin.manage");
const role = z.enum(ROLES);

export const usersRouter = router({
  list: adminProcedure.input(pageInput.optional()).query(({ ctx, input }) =>
    listUsers(ctx.em, {
      cursor: input?.cursor ? Number.parseInt(input.cursor, 10) || undefined : undefined,
      limit: input?.limit ?? 50,
    }),
  ),
  create: adminProcedure
    .input(z.object({ email: emailSchema, role, password: passwordSchema.optional() }))
    .mutation(({ ctx, input }) => createUser(ctx.em, ctx.config, ctx.user, input, ctx.audit)),
  update: adminProcedure
    .input(z.object({ id: z.number().int().positive(), role: role.optional(), disabled: z.boolean().optional() }))
    .mutation(({ ctx, input }) => updateUser(ctx.em, ctx.config, ctx.user, input, ctx.audit)),
  resetMfa: adminProcedure.input(z.object({ id: z.number().int().positive() })).mutation(async ({ ctx, input }) => {
    await clearMfa(ctx.em, ctx.config, ctx.user, input.id, "MFA_RESET", ctx.audit);
    return { ok: true as const };
  }),
});
