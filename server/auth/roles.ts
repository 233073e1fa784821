/**
 * The roles table from DESIGN.md, stated once. Procedures, loaders and the UI ask
 * `roleCan(role, capability)`; nothing else spells out which role may do what.
 */
export const ROLES = ["admin", "operator", "auditor", "viewer"] as const;
export type Role = (typeof ROLES)[number];

export const CAPABILITIES = {
  "hosts.view": ["admin", "operator", "auditor", "viewer"],
  "hosts.write": ["admin", "operator"],
  "metrics.update": ["admin", "operator"],
  "artifacts.write": ["admin", "operator"],
  "artifacts.download": ["admin", "operator", "auditor"],
  "audit.view": ["admin", "auditor"],
  "admin.manage": ["admin"],
  "account.own": ["admin", "operator", "auditor", "viewer"],
} as const satisfies Record<string, readonly Role[]>;

export type Capability = keyof typeof CAPABILITIES;

export function roleCan(role: Role, capability: Capability): boolean {
  return (CAPABILITIES[capability] as readonly Role[]).includes(role);
}

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}
