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

export function toTrpcError(error: unknown): TRPCError {
  if (error instanceof TRPCError) return error;
  if (error instanceof DomainError) return new TRPCError({ code: error.code, message: error.message, cause: error });
  if (error instanceof ZodError) return new TRPCError({ code: "BAD_REQUEST", message: firstZodMessage(error), cause: error });
  return new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "Something went wrong on the server.", cause: error });
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
