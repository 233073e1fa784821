import type { EntityManager } from "@mikro-orm/postgresql";
import { OptimisticLockError, UniqueConstraintViolationException } from "@mikro-orm/core";
import { HostSchema } from "../../../db/entities/host.entity";
import type { Config } from "../../config";
import type { HostFields, HostPatch } from "../../domain/hosts/host-fields";
import { DomainError } from "../../errors";
import { type AuditActor, type AuditRequestInfo, recordAuditEvent } from "../audit.service";
import { AUDITED_FIELDS, fieldChanges, type HostView, hostView } from "./host-view";

export type HostConflict = { current: HostView };

function notFound(id: number): DomainError {
  return new DomainError("NOT_FOUND", `Host ${id} does not exist (it may have been deleted).`);
}

function conflict(current: HostView): DomainError {
  return new DomainError(
    "CONFLICT",
    `Someone changed ${current.hostname} since you opened it (now version ${current.version}). Review their values and apply yours again.`,
    { current },
  );
}

function duplicate(hostname: string): DomainError {
  return new DomainError("CONFLICT", `A host named ${hostname} already exists.`);
}

export async function getHost(em: EntityManager, id: number): Promise<HostView> {
  const host = await em.findOne(HostSchema, { id });
  if (!host) throw notFound(id);
  return hostView(host);
}

export async function findHostByName(em: EntityManager, hostname: string): Promise<HostView | null> {
  const host = await em.findOne(HostSchema, { hostname: hostname.trim().toLowerCase() });
  return host ? hostView(host) : null;
}

export async function createHost(
  em: EntityManager,
  config: Config,
  actor: AuditActor,
  fields: HostFields,
  request: AuditRequestInfo,
): Promise<HostView> {
  try {
    return await em.transactional(async (tx) => {
      const host = tx.create(HostSchema, { ...fields, createdBy: actor.id, updatedBy: actor.id });
      await tx.flush();
      const view = hostView(host);
      await recordAuditEvent(tx, config.secret, {
        actor,
        action: "HOST_CREATED",
        targetType: "host",
        targetId: host.id,
        after: pickAudited(view),
        request,
      });
      return view;
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw duplicate(fields.hostname);
    throw error;
  }
}

/** Applies a patch if `version` is still current; a stale version is a CONFLICT carrying the stored host. */
export async function updateHost(
  em: EntityManager,
  config: Config,
  actor: AuditActor,
  input: { id: number; version: number; patch: HostPatch },
  request: AuditRequestInfo,
): Promise<HostView> {
  try {
    return await em.transactional(async (tx) => {
      const host = await tx.findOne(HostSchema, { id: input.id });
      if (!host) throw notFound(input.id);
      if (host.version !== input.version) throw conflict(hostView(host));
      const before = hostView(host);
      const changes = fieldChanges(before, input.patch);
      if (!changes) return before;
      tx.assign(host, { ...input.patch, updatedBy: actor.id });
      await tx.flush(); // the version column makes this `... where version = ?`
      const after = hostView(host);
      await recordAuditEvent(tx, config.secret, {
        actor,
        action: "HOST_UPDATED",
        targetType: "host",
        targetId: host.id,
        before: changes.before,
        after: changes.after,
        request,
      });
      return after;
    });
  } catch (error) {
    if (error instanceof OptimisticLockError) throw conflict(await getHost(em.fork(), input.id));
    if (error instanceof UniqueConstraintViolationException) throw duplicate(String(input.patch.hostname));
    throw error;
  }
}

export async function deleteHost(
  em: EntityManager,
  config: Config,
  actor: AuditActor,
  input: { id: number; version: number },
  request: AuditRequestInfo,
): Promise<{ id: number; hostname: string }> {
  const result = await em.transactional(async (tx) => {
    const host = await tx.findOne(HostSchema, { id: input.id }, { refresh: true });
    if (!host) throw notFound(input.id);
    if (host.version !== input.version) throw conflict(hostView(host));
    const before = pickAudited(hostView(host));
    // The host's artifacts go with it (ADR 006): their files are queued for removal in
    // this transaction, their rows cascade with the host's.
    const queued = await tx.execute<{ stored_name: string }[]>(
      `insert into artifact_file_deletions (stored_name)
       select stored_name from artifacts where host_id = ? on conflict do nothing returning stored_name`,
      [input.id],
    );
    const deleted = await tx.nativeDelete(HostSchema, { id: input.id, version: input.version });
    if (deleted === 0) throw conflict(await getHost(em.fork(), input.id));
    await recordAuditEvent(tx, config.secret, {
      actor,
      action: "HOST_DELETED",
      targetType: "host",
      targetId: input.id,
      before,
      after: { artifactsDeleted: queued.length },
      request,
    });
    return { id: input.id, hostname: host.hostname };
  });
  // A native delete bypasses the unit of work: drop the row from this request's identity map.
  const cached = em.getUnitOfWork().getById<object>("Host", input.id);
  if (cached) em.getUnitOfWork().unsetIdentity(cached);
  return result;
}

export function pickAudited(view: HostView): Record<string, unknown> {
  return Object.fromEntries(AUDITED_FIELDS.map((f) => [f, view[f]]));
}
