import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { ZodError, z } from "zod";

/**
 * The one error map: services throw `DomainError` with a tRPC code and a message a person
 * can act on; the tRPC middleware turns it into a TRPCError, and routes turn that into an
 * HTTP status with `httpStatusOf`.
 */
export type ErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "PRECONDITION_FAILED"
  | "PAYLOAD_TOO_LARGE"
  | "TOO_MANY_REQUESTS"
  | "BAD_GATEWAY"
  | "GATEWAY_TIMEOUT"
  | "SERVICE_UNAVAILABLE"
  | "INTERNAL_SERVER_ERROR";

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

/** Seconds a client should wait before retrying while the database is unreachable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

export const DATABASE_UNAVAILABLE_MESSAGE =
  "The database is not reachable right now. Nothing was changed; OpsDesk reconnects by itself, so try again in a few seconds.";

// Node socket errors, and PostgreSQL's SQLSTATEs for a server that is shutting down,
// starting up or gone (class 08 = connection exception, 57P0x = operator intervention).
const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENOTFOUND", "57P01", "57P02", "57P03"]);
const CONNECTION_MESSAGES =
  /Connection terminated|Timeout acquiring a connection|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly|the database system is (starting up|shutting down)|terminating connection due to administrator command/i;

/**
 * True when an error means "PostgreSQL could not be reached" rather than "the query was
 * wrong": such a request must answer 503, never 401 or 500 (ADR 017). Looks through the
 * wrappers knex and MikroORM put around the driver's error.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === "string" && (CONNECTION_CODES.has(code) || code.startsWith("08"))) return true;
    if (typeof message === "string" && CONNECTION_MESSAGES.test(message)) return true;
    if (current instanceof AggregateError && current.errors.some((e) => isDatabaseUnavailable(e))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

export function toTrpcError(error: unknown): TRPCError {
  if (error instanceof TRPCError) {
    if (error.code === "INTERNAL_SERVER_ERROR" && isDatabaseUnavailable(error.cause)) return databaseUnavailable(error.cause);
    return error;
  }
  if (error instanceof DomainError) return new TRPCError({ code: error.code, message: error.message, cause: error });
  if (error instanceof ZodError) return new TRPCError({ code: "BAD_REQUEST", message: firstZodMessage(error), cause: error });
  if (isDatabaseUnavailable(error)) return databaseUnavailable(error);
  return new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "Something went wrong on the server.", cause: error });
}

function databaseUnavailable(cause: unknown): TRPCError {
  return new TRPCError({ code: "SERVICE_UNAVAILABLE", message: DATABASE_UNAVAILABLE_MESSAGE, cause });
}

export function httpStatusOf(error: unknown): number {
  return getHTTPStatusCodeFromError(toTrpcError(error));
}

export function firstZodMessage(error: ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "Invalid input.";
  const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
  return `${where}${issue.message}`;
}

export function zodFieldErrors(error: ZodError): Record<string, string[] | undefined> {
  return z.flattenError(error).fieldErrors as Record<string, string[] | undefined>;
}
