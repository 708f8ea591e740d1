// The one error type every SDK call throws for an answer it cannot use.

/** One field the server found wrong: `path` names it (e.g. body.name), `message` says why. */
export interface ErrorDetail {
  path: string;
  message: string;
}

/**
 * An error answer of the API (status and code as the server sent them), or a failure to get one:
 * status 0 with code `network_error` (the connection failed) or `timeout` (the call's timeout passed).
 */
export class OpsConductorError extends Error {
  override readonly name = "OpsConductorError";
  /** HTTP status, or 0 when no answer came. */
  readonly status: number;
  /** Stable machine-readable code, e.g. `validation_failed`, `unauthorized`, `not_found`. */
  readonly code: string;
  /** Per-field details of a 400 (empty otherwise). */
  readonly details: ErrorDetail[];
  /** Seconds the server asked the client to wait (Retry-After), when it did. */
  readonly retryAfter: number | undefined;

  constructor(status: number, code: string, message: string, options: { details?: ErrorDetail[]; retryAfter?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = code;
    this.details = options.details ?? [];
    this.retryAfter = options.retryAfter;
  }
}

/** Whether `value` is an OpsConductorError (also across copies of the SDK). */
export function isOpsConductorError(value: unknown): value is OpsConductorError {
  return value instanceof OpsConductorError || (value instanceof Error && value.name === "OpsConductorError" && "status" in value && "code" in value);
}

const CODES: Record<number, string> = { 400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict", 413: "payload_too_large", 429: "too_many_requests", 503: "unavailable" };

/** Seconds of a Retry-After header (delta-seconds or an HTTP date), or undefined. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000);
}

/** The OpsConductorError of a non-2xx response (reads its body). */
export async function errorFromResponse(res: Response): Promise<OpsConductorError> {
  const text = await res.text().catch(() => "");
  let code = CODES[res.status] ?? (res.status >= 500 ? "server_error" : "http_error");
  let message = `${res.status} ${res.statusText || "error"}`.trim();
  let details: ErrorDetail[] | undefined;
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    if (body && typeof body.error === "object" && body.error) {
      if (typeof body.error.code === "string") code = body.error.code;
      if (typeof body.error.message === "string") message = body.error.message;
      if (Array.isArray(body.error.details)) details = body.error.details as ErrorDetail[];
    }
  } catch {
    if (text && text.length < 500) message = `${message}: ${text}`;
  }
  const retryAfter = retryAfterSeconds(res.headers.get("retry-after"));
  return new OpsConductorError(res.status, code, message, { ...(details ? { details } : {}), ...(retryAfter !== undefined ? { retryAfter } : {}) });
}
