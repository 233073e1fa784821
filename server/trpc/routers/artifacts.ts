import { z } from "zod";
import { artifactStorage } from "../../http/runtime";
import { deleteArtifact, listArtifacts } from "../../services/artifacts/artifacts.service";
import { getHost } from "../../services/hosts/hosts.service";
import { capabilityProcedure, router } from "../init";
import { pageInput } from "../schemas";

export const artifactsRouter = router({
  list: capabilityProcedure("hosts.view")
    .input(pageInput.extend({ hostId: z.number().int().positive() }))
    .query(async ({ ctx, input }) => {
      await getHost(ctx.em, input.hostId); // 404 for an unknown host
      return listArtifacts(ctx.em, input.hostId, { cursor: input.cursor, limit: input.limit });
    }),
  delete: capabilityProcedure("artifacts.write")
    .input(z.object({ id: z.uuid() }))
    .mutation(({ ctx, input }) =>
      deleteArtifact(ctx.em, ctx.config, artifactStorage(ctx.runtime), ctx.user, input.id, ctx.audit, ctx.log),
    ),
});
