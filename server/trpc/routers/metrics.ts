import { z } from "zod";
import { getHost } from "../../services/hosts/hosts.service";
import { updateHostMetrics } from "../../services/metrics/metrics.service";
import { lastExpiredAt, latestSnapshot, snapshotHistory } from "../../services/metrics/snapshots";
import { capabilityProcedure, router } from "../init";

const hostInput = z.object({ hostId: z.number().int().positive() });

export const metricsRouter = router({
  update: capabilityProcedure("metrics.update")
    .input(hostInput)
    .mutation(({ ctx, input }) => updateHostMetrics(ctx.em, ctx.config, ctx.user, input.hostId, ctx.audit)),
  latest: capabilityProcedure("hosts.view")
    .input(hostInput)
    .query(async ({ ctx, input }) => {
      await getHost(ctx.em, input.hostId); // 404 for an unknown host, not null
      return latestSnapshot(ctx.em, input.hostId);
    }),
  /** When the newest (expired) snapshot stopped being current; null if none expired. */
  lastExpiredAt: capabilityProcedure("hosts.view")
    .input(hostInput)
    .query(({ ctx, input }) => lastExpiredAt(ctx.em, input.hostId)),
  history: capabilityProcedure("hosts.view")
    .input(hostInput.extend({ limit: z.number().int().min(1).max(500).default(120) }))
    .query(async ({ ctx, input }) => {
      await getHost(ctx.em, input.hostId);
      return snapshotHistory(ctx.em, input.hostId, input.limit);
    }),
});
