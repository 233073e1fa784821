import type { EntityManager } from "@mikro-orm/postgresql";
import { SettingSchema } from "../../db/entities/setting.entity";
import type { Config } from "../config";
import { DomainError } from "../errors";
import { type AuditActor, type AuditRequestInfo, recordAuditEvent } from "./audit.service";
import {
  defaultSettings,
  ENV_OVERRIDES,
  SETTING_KEYS,
  SETTINGS_SCHEMA,
  type SettingKey,
  type Settings,
  settingsPatchSchema,
} from "./settings.schema";

export type EffectiveSettings = Settings & { overridden: SettingKey[] };

/**
 * Settings read through one EntityManager outside a transaction. A request has its own
 * fork, and a page reads settings in several places (the host page: its SSH command and
 * its panels); one read per request is enough. updateSettings forgets it.
 */
const readThrough = new WeakMap<EntityManager, Promise<EffectiveSettings>>();

/** The one way to read settings: defaults, then stored rows, then environment overrides. */
export function getSettings(em: EntityManager, config: Config): Promise<EffectiveSettings> {
  if (em.isInTransaction()) return readSettings(em, config);
  let read = readThrough.get(em);
  if (!read) {
    read = readSettings(em, config);
    readThrough.set(em, read);
    // A failed read (the database away) must not be remembered.
    read.catch(() => readThrough.delete(em));
  }
  return read;
}

async function readSettings(em: EntityManager, config: Config): Promise<EffectiveSettings> {
  const settings = defaultSettings();
  const rows = await em.find(SettingSchema, {});
  for (const row of rows) {
    if (!(row.key in SETTINGS_SCHEMA)) continue;
    const key = row.key as SettingKey;
    const parsed = SETTINGS_SCHEMA[key].safeParse(row.value);
    if (parsed.success) (settings as Record<SettingKey, unknown>)[key] = parsed.data;
  }
  const overridden: SettingKey[] = [];
  if (config.prometheusUrl) {
    settings["prometheus.url"] = config.prometheusUrl;
    overridden.push("prometheus.url");
  }
  if (config.metricsToken) {
    settings["metrics.endpointToken"] = config.metricsToken;
    overridden.push("metrics.endpointToken");
  }
  return { ...settings, overridden };
}

export class SettingOverriddenError extends DomainError {
  constructor(readonly key: SettingKey) {
    super("BAD_REQUEST", `${key} is set by the ${ENV_OVERRIDES[key]} environment variable and cannot be changed here.`);
  }
}

/**
 * Settings as procedures return them: the metrics endpoint token is a secret, so only
 * whether it is set goes out.
 */
export function settingsForDisplay(settings: EffectiveSettings): EffectiveSettings & { metricsEndpointTokenSet: boolean } {
  return { ...settings, "metrics.endpointToken": "", metricsEndpointTokenSet: settings["metrics.endpointToken"] !== "" };
}

/** Applies a validated patch and audits before/after in the same transaction. */
export async function updateSettings(
  em: EntityManager,
  config: Config,
  patch: unknown,
  actor: AuditActor,
  request: AuditRequestInfo | null,
): Promise<EffectiveSettings> {
  const values = settingsPatchSchema.parse(patch);
  readThrough.delete(em);
  return em.transactional(async (tx) => {
    const current = await getSettings(tx, config);
    const before: Record<string, unknown> = {};
    const after: Record<string, unknown> = {};
    for (const key of SETTING_KEYS) {
      const value = values[key];
      if (value === undefined || value === current[key]) continue;
      if (current.overridden.includes(key)) throw new SettingOverriddenError(key);
      before[key] = redactSetting(key, current[key]);
      after[key] = redactSetting(key, value);
      await tx.upsert(SettingSchema, { key, value, updatedAt: new Date(), updatedBy: actor.id });
    }
    if (Object.keys(after).length > 0) {
      await recordAuditEvent(tx, config.secret, {
        actor,
        action: "SETTINGS_UPDATED",
        targetType: "settings",
        targetId: null,
        before,
        after,
        request,
      });
    }
    return getSettings(tx, config);
  }).finally(() => readThrough.delete(em));
}

function redactSetting(key: SettingKey, value: unknown): unknown {
  return key === "metrics.endpointToken" && value ? "[set]" : value;
}
