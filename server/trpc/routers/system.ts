import { pingDatabase } from "../../services/system.service";
import { publicProcedure, router } from "../init";

export const systemRouter = router({
  /** Public on purpose: what a status page or a load balancer check may show anyone. */
  info: publicProcedure.query(async ({ ctx }) => {
    const database = await pingDatabase(ctx.em, 2_000);
    return {
      name: "OpsDesk",
      version: ctx.runtime.version,
      uptimeSeconds: Math.round((Date.now() - ctx.runtime.startedAt.getTime()) / 1000),
      database,
      serverTime: new Date().toISOString(),
    };
  }),
});
