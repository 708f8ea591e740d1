// The API's error shape: { error: { code, message, details? } }, one place that builds it.
import { DbError } from "@opsconductor/db";

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

/** Builds the JSON error response. */
export function errorResponse(status: number, code: string, message: string, details?: ErrorDetail[], headers?: Record<string, string>): Response {
  return Response.json({ error: { code, message, ...(details ? { details } : {}) } }, { status, headers: { "Cache-Control": "no-store", ...headers } });
}

/** Maps a thrown error to a response; unknown errors become a 500 that reveals nothing. */
export function toErrorResponse(error: unknown): Response {
  if (error instanceof Response) return error;
  if (error instanceof ApiError) return errorResponse(error.status, error.code, error.message, error.details, error.headers);
  if (error instanceof DbError) return errorResponse(error.status, error.code, error.message, error.field ? [{ path: error.field, message: error.message }] : undefined);
  const prismaCode = (error as { code?: unknown })?.code;
  if (prismaCode === "P2025") return errorResponse(404, "not_found", "not found");
  const id = crypto.randomUUID();
  console.error(`[api] unexpected error ${id}:`, error instanceof Error ? error.stack : error);
  return errorResponse(500, "internal_error", `the server failed to handle this request (error id ${id}); the details are in the server log`);
}
