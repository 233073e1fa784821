import { z } from "zod";
import { hostFieldsSchema, hostPatchSchema } from "../../domain/hosts/host-fields";
import { DomainError } from "../../errors";
import { artifactStorage } from "../../http/runtime";
import { processFileDeletions } from "../../services/artifacts/artifacts.service";
import { applyImportRun, importHosts, startImportRun } from "../../services/hosts/host-import";
import { readImportStatus } from "../../services/hosts/host-import-runs";
import { HOST_SORTS, hostFacets, listHosts } from "../../services/hosts/host-list";
import { createHost, deleteHost, findHostByName, getHost, updateHost } from "../../services/hosts/hosts.service";
import { recordSshCopy, sshCommandFor } from "../../services/hosts/ssh.service";
import { capabilityProcedure, router } from "../init";
import { pageInput } from "../schemas";

const viewProcedure = capabilityProcedure("hosts.view");
const writeProcedure = capabilityProcedure("hosts.write");
const hostId = z.object({ id: z.number().int().positive() });
const versioned = hostId.extend({ version: z.number().int().positive() });

export const hostFiltersSchema = z.object({
  q: z.string().trim().max(200).optional(),
  tags: z.array(z.string().trim().toLowerCase().max(50)).max(20).optional(),
  environment: z.string().trim().toLowerCase().max(32).optional(),
});

export const hostsRouter = router({
  list: viewProcedure
    .input(pageInput.extend(hostFiltersSchema.shape).extend({ sort: z.enum(HOST_SORTS).optional() }).optional())
    .query(({ ctx, input }) => listHosts(ctx.em, input ?? {})),

  facets: viewProcedure.query(({ ctx }) => hostFacets(ctx.em)),

  get: viewProcedure.input(hostId).query(({ ctx, input }) => getHost(ctx.em, input.id)),

  getByHostname: viewProcedure.input(z.object({ hostname: z.string().trim().min(1).max(253) })).query(async ({ ctx, input }) => {
    const host = await findHostByName(ctx.em, input.hostname);
    if (!host) throw new DomainError("NOT_FOUND", `No host is named ${input.hostname}.`);
    return host;
  }),

  create: writeProcedure
    .input(hostFieldsSchema)
    .mutation(({ ctx, input }) => createHost(ctx.em, ctx.config, ctx.user, input, ctx.audit)),

  update: writeProcedure
    .input(versioned.extend(hostPatchSchema.shape))
    .mutation(({ ctx, input }) => {
      const { id, version, ...patch } = input;
      return updateHost(ctx.em, ctx.config, ctx.user, { id, version, patch }, ctx.audit);
    }),

  delete: writeProcedure.input(versioned).mutation(async ({ ctx, input }) => {
    const deleted = await deleteHost(ctx.em, ctx.config, ctx.user, input, ctx.audit);
    await processFileDeletions(ctx.em, artifactStorage(ctx.runtime), ctx.log);
    return deleted;
  }),

  importCsv: writeProcedure
    .input(
      z.object({
        csv: z.string(),
        dryRun: z.boolean().default(true),
        delimiter: z.enum([",", ";", "auto"]).default("auto"),
        fileName: z.string().max(255).optional(),
        /** Chosen by the caller to follow the run with importStatus while this call runs. */
        runId: z.uuid().optional(),
      }),
    )
    .mutation(({ ctx, input }) =>
      importHosts(
        ctx.em,
        ctx.config,
        ctx.user,
        { content: input.csv, fileName: input.fileName, delimiter: input.delimiter, dryRun: input.dryRun, runId: input.runId },
        ctx.audit,
      ),
    ),

  applyImport: writeProcedure
    .input(z.object({ runId: z.uuid() }))
    .mutation(({ ctx, input }) => applyImportRun(ctx.em, ctx.config, ctx.user, input.runId, ctx.audit)),

  /** Starts applying a stored dry run and answers at once; follow it with importStatus. */
  startApplyImport: writeProcedure
    .input(z.object({ runId: z.uuid() }))
    .mutation(({ ctx, input }) => startImportRun(ctx.em, ctx.config, ctx.user, input.runId, ctx.audit, ctx.log)),

  /** A run's phase and counts while it runs, its result once done; from any instance. */
  importStatus: writeProcedure.input(z.object({ runId: z.uuid() })).query(async ({ ctx, input }) => {
    const status = await readImportStatus(ctx.em, ctx.user.id, input.runId);
    if (!status) throw new DomainError("NOT_FOUND", "That import run has expired or is not yours.");
    return status;
  }),

  sshCommand: viewProcedure.input(hostId).query(({ ctx, input }) => sshCommandFor(ctx.em, ctx.config, input.id)),

  recordSshCopy: viewProcedure
    .input(hostId)
    .mutation(({ ctx, input }) => recordSshCopy(ctx.em, ctx.config, ctx.user, input.id, ctx.audit)),
});
