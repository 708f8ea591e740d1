// Errors a service throws to answer with a specific 4xx status; the route builder turns them into
// the API's error shape (http/errors.server.ts).
import { toDbError } from "@opsconductor/db";
import type { z } from "zod";

export interface ErrorDetail {
  path: string;
  message: string;
}

/** An error a service or route throws to answer with a specific 4xx status. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[] | undefined;
  readonly headers: Record<string, string> | undefined;
  constructor(status: number, code: string, message: string, options: { details?: ErrorDetail[]; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers;
  }
}

/** 404 for an entity that does not exist (or that the caller may not know exists). */
export const notFound = (entity: string) => new ApiError(404, "not_found", `${entity} not found`);

/** A 400 whose one detail names `path`, e.g. invalidField("body.name", "is taken"). */
export const invalidField = (path: string, message: string) => new ApiError(400, "validation_failed", `${path} ${message}`, { details: [{ path, message: `${path} ${message}` }] });

/** A zod error's issues as details under `prefix` ("body", "body.secret"): path first, then the rule. */
export function zodIssueDetails(error: z.ZodError, prefix: string): ErrorDetail[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join(".");
    return { path, message: `${path} ${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)}` };
  });
}

/** A 400 listing every detail. */
export const validationFailed = (details: ErrorDetail[]) => new ApiError(400, "validation_failed", details.map((d) => d.message).join("; "), { details });

/**
 * The 413 for a body over `limit`. It carries `Connection: close`: the rest of the body is never
 * read, so the server ends the connection once the answer is written instead of waiting for it.
 */
export function payloadTooLarge(limit: number): ApiError {
  return new ApiError(413, "payload_too_large", `the request body may be at most ${limit} bytes`, { headers: { Connection: "close" } });
}

/**
 * Rethrows a unique violation of `entity` as a 409 naming the body field it concerns ("a target
 * with this name already exists", path body.name); any other error is rethrown as it is.
 */
export function rethrowConflict(error: unknown, entity: string): never {
  const translated = toDbError(error, entity);
  if (translated?.code === "conflict" && translated.field) {
    throw new ApiError(409, "conflict", translated.message, { details: [{ path: `body.${translated.field}`, message: translated.message }] });
  }
  throw error;
}

/** Whether `error` is Prisma's refusal to remove a row that other rows still refer to. */
export const isStillReferenced = (error: unknown) => toDbError(error, "row")?.code === "in_use";

/** Whether `error` is Prisma's unique violation. */
export const isUniqueViolation = (error: unknown) => toDbError(error, "row")?.code === "conflict";
