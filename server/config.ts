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
  ARTIFACT_STORE: z.enum(["fs", "s3"], { message: 'must be "fs" (a local directory) or "s3"' }).default("fs"),
  S3_ENDPOINT: optionalUrl,
  S3_BUCKET: z
    .string()
    .optional()
    .transform((v) => (v ? v : undefined))
    .pipe(
      z
        .string()
        .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)")
        .optional(),
    ),
  S3_REGION: z.string().trim().min(1).default("us-east-1"),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_FORCE_PATH_STYLE: z
    .enum(["0", "1", "true", "false", ""], { message: 'must be "1"/"true" or "0"/"false"' })
    .default("0")
    .transform((v) => v === "1" || v === "true"),
  UPLOAD_IDLE_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),
  SHUTDOWN_DRAIN_SECONDS: z.coerce.number().min(0, "must be 0 or more seconds").max(600, "must be at most 600 seconds").optional(),
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
  /** Local directory of the `fs` artifact store. */
  artifactStoragePath: string;
  /** Where artifact bytes go: the local directory (default) or an S3-compatible bucket. */
  artifactStore: "fs" | "s3";
  s3: S3StoreConfig | undefined;
  /** An upload with no bytes for this long is answered 408 and removed. */
  uploadIdleTimeoutMs: number;
  /**
   * After SIGTERM, how long the process keeps serving with /readyz at 503 before it stops
   * accepting connections: time for a load balancer's health check to take it out (ADR 023).
   */
  shutdownDrainMs: number;
  prometheusUrl: string | undefined;
  allowedOrigins: string[];
  logLevel: (typeof LOG_LEVELS)[number];
  trustProxy: number;
  adminEmail: string;
  adminPassword: string | undefined;
  metricsToken: string | undefined;
};

export type S3StoreConfig = {
  endpoint: string | undefined;
  bucket: string;
  region: string;
  forcePathStyle: boolean;
  /** Absent: the AWS SDK's default chain (AWS_* variables, instance or task role). */
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
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
  const s3 = s3StoreConfig(e);
  return {
    env: e.NODE_ENV,
    dataDir,
    databaseUrl: e.DATABASE_URL,
    port: e.PORT,
    host: e.HOST,
    secret: e.OPSDESK_SECRET ?? readOrCreateSecret(dataDir),
    artifactStoragePath: path.resolve(e.ARTIFACT_STORAGE_PATH || path.join(dataDir, "artifacts")),
    artifactStore: e.ARTIFACT_STORE,
    s3,
    uploadIdleTimeoutMs: e.UPLOAD_IDLE_TIMEOUT_SECONDS * 1000,
    // A production process usually sits behind a balancer; a development one at a terminal.
    shutdownDrainMs: Math.round((e.SHUTDOWN_DRAIN_SECONDS ?? (e.NODE_ENV === "production" ? 5 : 0)) * 1000),
    prometheusUrl: e.PROMETHEUS_URL,
    allowedOrigins: e.ALLOWED_ORIGINS,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    adminEmail: e.OPSDESK_ADMIN_EMAIL.toLowerCase(),
    adminPassword: e.OPSDESK_ADMIN_PASSWORD,
    metricsToken: e.METRICS_TOKEN || undefined,
  };
}

/** The S3 store's settings, checked together: a bucket is needed, and both keys or neither. */
function s3StoreConfig(e: z.infer<typeof envSchema>): S3StoreConfig | undefined {
  if (e.ARTIFACT_STORE !== "s3") return undefined;
  const problems: { variable: string; message: string }[] = [];
  if (!e.S3_BUCKET) problems.push({ variable: "S3_BUCKET", message: "is required when ARTIFACT_STORE=s3" });
  const keyId = e.S3_ACCESS_KEY_ID || undefined;
  const secret = e.S3_SECRET_ACCESS_KEY || undefined;
  if (keyId && !secret) problems.push({ variable: "S3_SECRET_ACCESS_KEY", message: "is required when S3_ACCESS_KEY_ID is set" });
  if (secret && !keyId) problems.push({ variable: "S3_ACCESS_KEY_ID", message: "is required when S3_SECRET_ACCESS_KEY is set" });
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    endpoint: e.S3_ENDPOINT,
    bucket: e.S3_BUCKET!,
    region: e.S3_REGION,
    forcePathStyle: e.S3_FORCE_PATH_STYLE,
    credentials: keyId && secret ? { accessKeyId: keyId, secretAccessKey: secret } : undefined,
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
