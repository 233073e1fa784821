import { z } from "zod";
import { testPrometheus } from "../../services/metrics/metrics.service";
import { getSettings, settingsForDisplay, updateSettings } from "../../services/settings.service";
import { capabilityProcedure, router } from "../init";

const adminProcedure = capabilityProcedure("admin.manage");

export const settingsRouter = router({
  get: adminProcedure.query(async ({ ctx }) => settingsForDisplay(await getSettings(ctx.em, ctx.config))),
  // The patch is validated key by key against the settings schema in the service.
  update: adminProcedure
    .input(z.record(z.string(), z.unknown()))
    .mutation(async ({ ctx, input }) => settingsForDisplay(await updateSettings(ctx.em, ctx.config, input, ctx.user, ctx.audit))),
  /** Checks a Prometheus URL (or the saved one) answers; changes nothing. */
  testPrometheus: adminProcedure
    .input(z.object({ url: z.url({ protocol: /^https?$/ }).optional() }).optional())
    .query(({ ctx, input }) => testPrometheus(ctx.em, ctx.config, input?.url)),
});
