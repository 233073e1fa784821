import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

/**
 * Every environment variable OpsDesk reads, parsed once at boot. A bad value stops the
 * process with a message naming the variable (see `ConfigError`).
 */
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const optionalUrl = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v ? v : undefined))
  .pipe(z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }).optional());

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  OPSDESK_DATA_DIR: z.string().min(1).default("./.data"),
  DATABASE_URL: z
    .string()
    .optional()
    .transform((v) => (v ? v : undefined))
    .pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
        .optional(),
    ),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  OPSDESK_SECRET: z
    .string()
    .optional()
    .transform((v) => (v ? v : undefined))
    .pipe(z.string().min(32, "must be at least 32 characters").optional()),
  ARTIFACT_STORAGE_PATH: z.string().optional(),
  PROMETHEUS_URL: optionalUrl,
  ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const origins = (v ?? "")
        .split(",")
        .map((o) => o.trim())
        .filter(Boolean);
      for (const origin of origins) {
        if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
          ctx.addIssue({ code: "custom", message: `"${origin}" is not an origin like https://ops.example.com` });
        }
      }
      return origins;
    }),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
  OPSDESK_ADMIN_EMAIL: z.email("must be an email address").default("admin@opsdesk.local"),
  OPSDESK_ADMIN_PASSWORD: z
    .string()
    .optional()
    .transform((v) => (v ? v : undefined))
    .pipe(z.string().min(12, "must be at least 12 characters").max(1024).optional()),
  METRICS_TOKEN: z.string().optional(),
});

export type Config = {
  env: "development" | "production" | "test";
  dataDir: string;
  databaseUrl: string | undefined;
  port: number;
  host: string;
  secret: string;
  artifactStoragePath: string;
  prometheusUrl: string | undefined;
  allowedOrigins: string[];
  logLevel: (typeof LOG_LEVELS)[number];
  trustProxy: number;
  adminEmail: string;
  adminPassword: string | undefined;
  metricsToken: string | undefined;
};

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      `Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

export type Environment = Record<string, string | undefined>;

export function loadConfig(env: Environment = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? "environment"),
        message: issue.message,
      })),
    );
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.OPSDESK_DATA_DIR);
  if (e.NODE_ENV === "production" && !e.OPSDESK_SECRET) {
    throw new ConfigError([
      { variable: "OPSDESK_SECRET", message: "is required when NODE_ENV=production (32+ random characters)" },
    ]);
  }
  return {
    env: e.NODE_ENV,
    dataDir,
    databaseUrl: e.DATABASE_URL,
    port: e.PORT,
    host: e.HOST,
    secret: e.OPSDESK_SECRET ?? readOrCreateSecret(dataDir),
    artifactStoragePath: path.resolve(e.ARTIFACT_STORAGE_PATH || path.join(dataDir, "artifacts")),
    prometheusUrl: e.PROMETHEUS_URL,
    allowedOrigins: e.ALLOWED_ORIGINS,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    adminEmail: e.OPSDESK_ADMIN_EMAIL.toLowerCase(),
    adminPassword: e.OPSDESK_ADMIN_PASSWORD,
    metricsToken: e.METRICS_TOKEN || undefined,
  };
}

/** Outside production the signing key is generated once and kept beside the data. */
function readOrCreateSecret(dataDir: string): string {
  const file = path.join(dataDir, "secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  const secret = randomBytes(48).toString("base64url");
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return secret;
}
