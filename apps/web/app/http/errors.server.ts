// The API's error shape: { error: { code, message, details? } }, one place that builds it.
import { DbError, toDbError } from "@opsconductor/db";
import { ApiError, type ErrorDetail } from "../services/errors.server.ts";
import { logger, requestScope } from "./observability.server.ts";

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
  // The request id names the failure in the answer, the request log line and this error line alike.
  const requestId = requestScope()?.requestId ?? crypto.randomUUID();
  logger().error({ requestId, err: error }, "unexpected error");
  return Response.json(
    { error: { code: "internal_error", message: `the server failed to handle this request (request id ${requestId}); the details are in the server log`, requestId } },
    { status: 500, headers: { "Cache-Control": "no-store" } },
  );
}
