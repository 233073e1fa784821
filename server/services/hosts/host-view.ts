import type { Host } from "../../../db/entities/host.entity";
import { defaultPrometheusInstance } from "../../domain/hosts/host-fields";

/** A host as pages and scripts see it. */
export type HostView = {
  id: number;
  hostname: string;
  ip: string | null;
  port: number;
  sshUser: string | null;
  bastion: string | null;
  sshTemplate: string | null;
  environment: string | null;
  os: string | null;
  tags: string[];
  prometheusInstance: string | null;
  /** The instance label metrics are queried with: the host's own, else `<ip or hostname>:9100`. */
  effectivePrometheusInstance: string;
  notes: string;
  version: number;
  createdAt: string;
  updatedAt: string;
};

export function hostView(host: Host): HostView {
  return {
    id: host.id,
    hostname: host.hostname,
    ip: host.ip ?? null,
    port: host.port,
    sshUser: host.sshUser ?? null,
    bastion: host.bastion ?? null,
    sshTemplate: host.sshTemplate ?? null,
    environment: host.environment ?? null,
    os: host.os ?? null,
    tags: [...(host.tags ?? [])],
    prometheusInstance: host.prometheusInstance ?? null,
    effectivePrometheusInstance: host.prometheusInstance || defaultPrometheusInstance(host),
    notes: host.notes ?? "",
    version: host.version,
    createdAt: host.createdAt.toISOString(),
    updatedAt: host.updatedAt.toISOString(),
  };
}

/** The editable fields, for audit before/after. */
export const AUDITED_FIELDS = [
  "hostname",
  "ip",
  "port",
  "sshUser",
  "bastion",
  "sshTemplate",
  "environment",
  "os",
  "tags",
  "prometheusInstance",
  "notes",
] as const;
export type AuditedField = (typeof AUDITED_FIELDS)[number];

/**
 * Audited values are strings, numbers, null or arrays of strings (tags, in order), so
 * equality is element-wise: no serialising per field, which an import does for every
 * field of every existing host it reads.
 */
export function sameFieldValue(a: unknown, b: unknown): boolean {
  const x = a ?? null;
  const y = b ?? null;
  if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((item, i) => item === y[i]);
  return x === y;
}

/** Only the fields that differ, before and after. */
export function fieldChanges(
  before: Partial<Record<AuditedField, unknown>>,
  after: Partial<Record<AuditedField, unknown>>,
): { before: Record<string, unknown>; after: Record<string, unknown> } | null {
  const b: Record<string, unknown> = {};
  const a: Record<string, unknown> = {};
  for (const field of AUDITED_FIELDS) {
    if (!(field in after)) continue;
    if (!sameFieldValue(before[field], after[field])) {
      b[field] = before[field] ?? null;
      a[field] = after[field] ?? null;
    }
  }
  return Object.keys(a).length ? { before: b, after: a } : null;
}
