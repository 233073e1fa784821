import pino, { type Logger } from "pino";

/**
 * One logger for the process; requests get a child with their request id. Secrets are
 * redacted by path so that an accidental `log.info({ body })` cannot leak them.
 */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'res.headers["set-cookie"]',
  "authorization",
  "cookie",
  "password",
  "*.password",
  "*.newPassword",
  "*.currentPassword",
  "token",
  "*.token",
  "*.accessToken",
  "*.refreshToken",
  "*.mfaToken",
  "*.code",
  "*.secret",
];

export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
): Logger {
  return pino(
    {
      level,
      base: { app: "opsdesk" },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export type { Logger };
