import { listAuditEvents, auditFiltersSchema } from "../../services/audit-query.service";
import { verifyAuditChain } from "../../services/audit.service";
import { capabilityProcedure, router } from "../init";
import { pageInput } from "../schemas";

const viewProcedure = capabilityProcedure("audit.view");

export const auditRouter = router({
  /** Newest first; filters as on /audit (audit-query.service). */
  list: viewProcedure
    .input(pageInput.extend(auditFiltersSchema.shape).optional())
    .query(({ ctx, input }) => listAuditEvents(ctx.em, input ?? {})),

  /**
   * Recomputes the whole chain. A query: it changes nothing, so it needs no CSRF proof
   * and a script can call it with GET.
   */
  verify: viewProcedure.query(({ ctx }) => verifyAuditChain(ctx.em, ctx.config.secret)),
});
