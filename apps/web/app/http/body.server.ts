// Reading request bodies with a byte limit that holds whatever the client declares: Content-Length is
// only a hint, and a `Transfer-Encoding: chunked` body has none, so the bytes are counted as they
// arrive and reading stops at the limit.
import type { UploadBody } from "../services/files/commands.server.ts";
import { ApiError, payloadTooLarge } from "../services/errors.server.ts";

/** Limits of the bodies the app reads into memory. */
export const BODY_LIMITS = Object.freeze({
  /** JSON bodies of /api routes. */
  api: 1024 * 1024,
  /** Small page forms (sign-in, sign-out, most pages). */
  form: 64 * 1024,
  /**
   * Page forms that carry a whole job definition (the job editor): the API's JSON limit, times
   * three for the form encoding's %XX escapes.
   */
  definitionForm: 3 * 1024 * 1024,
});

/**
 * Yields the body's chunks and throws the 413 of `payloadTooLarge` as soon as more than `limit`
 * bytes have arrived (or Content-Length announces more), without reading further. For streaming
 * consumers such as uploads; `readBody` collects it for small bodies.
 */
export async function* streamBody(request: Request, limit: number): AsyncGenerator<Uint8Array, void, undefined> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw payloadTooLarge(limit);
  if (!request.body) return;
  const reader = request.body.getReader();
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      received += value.byteLength;
      if (received > limit) throw payloadTooLarge(limit);
      yield value;
    }
  } finally {
    // Released, not cancelled: cancelling destroys the socket before the 413 can be written.
    reader.releaseLock();
  }
}

/** The whole body as bytes, at most `limit` of them (else the 413 of `payloadTooLarge`). */
export async function readBody(request: Request, limit: number): Promise<Buffer<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of streamBody(request, limit)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The body as UTF-8 text, at most `limit` bytes. */
export async function readText(request: Request, limit: number): Promise<string> {
  return (await readBody(request, limit)).toString("utf8");
}

/** The body parsed as a form (url-encoded or multipart), at most `limit` bytes. */
export async function readForm(request: Request, limit: number): Promise<FormData> {
  const bytes = await readBody(request, limit);
  const type = request.headers.get("content-type") ?? "application/x-www-form-urlencoded";
  try {
    return await new Response(bytes, { headers: { "content-type": type } }).formData();
  } catch {
    throw new ApiError(400, "invalid_form", "the request body is not a form (send application/x-www-form-urlencoded or multipart/form-data)");
  }
}

/** A streamed upload's body for the file library: its announced size, its chunks and the client's signal. */
export function uploadBody(request: Request): UploadBody {
  const declared = request.headers.get("content-length");
  return { declaredBytes: declared === null ? null : Number(declared), chunks: (limit) => streamBody(request, limit), signal: request.signal };
}
