// The API's error shape: { error: { code, message, details? } }, one place that builds it.
import { DbError, toDbError } from "@opsconductor/db";
import { ApiError, type ErrorDetail } from "../services/errors.server.ts";

/** Builds the JSON error response. */
export function errorResponse(status: number, code: string, message: string, details?: ErrorDetail[], headers?: Record<string, string>): Response {
  return Response.json({ error: { code, message, ...(details ? { details } : {}) } }, { status, headers: { "Cache-Control": "no-store", ...headers } });
}

/** Maps a thrown error to a response; unknown errors become a 500 that reveals nothing. */
export function toErrorResponse(error: unknown): Response {
  if (error instanceof Response) return error;
  if (error instanceof ApiError) return errorResponse(error.status, error.code, error.message, error.details, error.headers);
  if (error instanceof DbError) return errorResponse(error.status, error.code, error.message, error.field ? [{ path: error.field, message: error.message }] : undefined);
  if (toDbError(error, "record")?.code === "not_found") return errorResponse(404, "not_found", "not found");
  const id = crypto.randomUUID();
  console.error(`[api] unexpected error ${id}:`, error instanceof Error ? error.stack : error);
  return errorResponse(500, "internal_error", `the server failed to handle this request (error id ${id}); the details are in the server log`);
}
