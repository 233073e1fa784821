import { z } from "zod";
import { DEFAULT_SSH_TEMPLATE, validateSshTemplate } from "../domain/hosts/ssh-command";

/**
 * Every setting: its zod schema and its default, kept apart so that a partial update
 * never fills in defaults for keys it does not mention. Stored values are validated on
 * read too, so a row edited by hand falls back to the default instead of breaking a page.
 * `ENV_OVERRIDES` says which keys an environment variable wins over (README lists them).
 */
export const SETTINGS_SCHEMA = {
  "prometheus.url": z.union([z.url({ protocol: /^https?$/, message: "Enter an http(s) URL, or leave it empty." }), z.literal("")]),
  "prometheus.timeoutMs": z.number().int().min(100).max(60_000),
  "metrics.snapshotTtlSeconds": z.number().int().min(60).max(90 * 86_400),
  "metrics.cleanupIntervalSeconds": z.number().int().min(10).max(86_400),
  "metrics.endpointToken": z.string().max(200),
  "ssh.defaultTemplate": z
    .string()
    .min(1)
    .max(500)
    .superRefine((template, ctx) => {
      for (const message of validateSshTemplate(template)) ctx.addIssue({ code: "custom", message });
    }),
  "import.maxBytes": z.number().int().min(1_024).max(1_073_741_824),
  "import.maxRows": z.number().int().min(1).max(5_000_000),
  "artifacts.maxBytes": z.number().int().min(1).max(1_099_511_627_776),
} as const;

export type SettingKey = keyof typeof SETTINGS_SCHEMA;
export type Settings = { [K in SettingKey]: z.output<(typeof SETTINGS_SCHEMA)[K]> };

export const SETTING_DEFAULTS: Settings = {
  "prometheus.url": "",
  "prometheus.timeoutMs": 5_000,
  "metrics.snapshotTtlSeconds": 86_400,
  "metrics.cleanupIntervalSeconds": 300,
  "metrics.endpointToken": "",
  // The same text as DEFAULT_SSH_TEMPLATE in server/domain/hosts/ssh-command.ts.
  "ssh.defaultTemplate": DEFAULT_SSH_TEMPLATE,
  "import.maxBytes": 20 * 1024 * 1024,
  "import.maxRows": 200_000,
  "artifacts.maxBytes": 1_073_741_824,
};

export const SETTING_KEYS = Object.keys(SETTINGS_SCHEMA) as SettingKey[];

/** Keys an environment variable overrides; the UI shows them read-only. */
export const ENV_OVERRIDES: Partial<Record<SettingKey, string>> = {
  "prometheus.url": "PROMETHEUS_URL",
  "metrics.endpointToken": "METRICS_TOKEN",
};

export const settingsPatchSchema = z
  .object(Object.fromEntries(SETTING_KEYS.map((k) => [k, SETTINGS_SCHEMA[k].optional()])) as {
    [K in SettingKey]: z.ZodOptional<(typeof SETTINGS_SCHEMA)[K]>;
  })
  .strict();

export function defaultSettings(): Settings {
  return { ...SETTING_DEFAULTS };
}
