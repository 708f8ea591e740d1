// The file library: uploads streamed into PostgreSQL (never buffered whole), listing, deletion while
// no job version refers to a file, and pinning the `file` of job steps to one stored file.
import type { JobDefinition } from "@opsconductor/core";
import { DbError, fileReferences, findLibraryFile, storeFile, type Db, type Prisma, type PrismaClient } from "@opsconductor/db";
import { z } from "zod";
import { env } from "../env.server.ts";
import type { RouteContext } from "./api.server.ts";
import { decodeCursor, toPage } from "./api.server.ts";
import type { Principal } from "./auth.server.ts";
import { payloadTooLarge, streamBody } from "./body.server.ts";
import { ApiError, notFound, type ErrorDetail } from "./errors.server.ts";

type Audit = RouteContext<unknown, unknown, unknown, Principal>["audit"];

/** Header that may carry the file's name (percent-encoded UTF-8) instead of the `name` query parameter. */
export const FILE_NAME_HEADER = "x-file-name";

/** A file's name in the library: what steps refer to it by. */
export const fileNameSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(255, "must be at most 255 characters long")
  .refine((name) => ![...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), "must not contain control characters")
  .refine((name) => !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(name), "must not look like a file id (a UUID)");

type FileRow = Prisma.LibraryFileGetPayload<object>;

/** The API's view of a stored file. */
export function toFileView(file: FileRow) {
  return {
    id: file.id,
    name: file.name,
    size: Number(file.size),
    sha256: file.sha256,
    uploadedBy: file.uploadedById || file.uploadedByName ? { id: file.uploadedById, username: file.uploadedByName } : null,
    createdAt: file.createdAt,
  };
}

function nameProblem(path: string, message: string): ApiError {
  return new ApiError(400, "validation_failed", `${path} ${message}`, { details: [{ path, message: `${path} ${message}` }] });
}

/** The upload's name: the `name` query parameter, else the X-File-Name header. */
export function uploadName(request: Request, fromQuery: string | undefined): string {
  let raw = fromQuery;
  let path = "query.name";
  if (raw === undefined) {
    const header = request.headers.get(FILE_NAME_HEADER);
    if (header === null) throw nameProblem("query.name", `is required: name the file with ?name=<name> or the ${FILE_NAME_HEADER} header`);
    path = `headers.${FILE_NAME_HEADER}`;
    try {
      raw = decodeURIComponent(header);
    } catch {
      throw nameProblem(path, "is not valid percent-encoded UTF-8");
    }
  }
  const parsed = fileNameSchema.safeParse(raw);
  if (!parsed.success) throw nameProblem(path, parsed.error.issues[0]!.message);
  return parsed.data;
}

/**
 * Receives the request body into the library under `name`. The bytes go to chunk rows as they
 * arrive, in one transaction with the file row and the audit entry: a body over the limit (413), a
 * client that goes away or an upload that outlasts its time limit leaves no row behind.
 */
export async function uploadFile(db: PrismaClient, request: Request, name: string, principal: Principal, audit: Audit) {
  const { FILE_UPLOAD_MAX_BYTES: limit, FILE_UPLOAD_TIMEOUT_SEC: timeoutSec } = env();
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw payloadTooLarge(limit);
  const body = receive(streamBody(request, limit), request.signal);
  let stored;
  try {
    stored = await db.$transaction(
      async (tx) => {
        const file = await storeFile(tx, { name, uploadedBy: { id: principal.id, name: principal.username }, chunks: body });
        await audit(
          {
            action: "file.upload",
            entityType: "file",
            entityId: file.id,
            summary: `${principal.username} uploaded file ${name} (${file.size} bytes)`,
            details: { name, size: Number(file.size), sha256: file.sha256 },
          },
          tx,
        );
        return file;
      },
      { maxWait: 10_000, timeout: timeoutSec * 1000 },
    );
  } catch (error) {
    if (error instanceof ApiError) throw error;
    // Prisma ends a transaction that outlives its timeout; whatever was written is rolled back.
    if (/transaction/i.test((error as Error)?.message ?? "") && /expired|timeout|closed/i.test((error as Error).message)) {
      throw new ApiError(408, "upload_timeout", `the upload did not finish within FILE_UPLOAD_TIMEOUT_SEC (${timeoutSec} s); nothing was stored`, { headers: { Connection: "close" } });
    }
    throw error;
  }
  return toFileView(stored);
}

// A body that breaks off (the client went away, the connection dropped) is a 400, not a 500: the
// transaction rolls back and nothing is stored.
async function* receive(chunks: AsyncGenerator<Uint8Array>, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of chunks) {
      if (signal.aborted) break;
      yield chunk;
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError(400, "upload_incomplete", "the upload ended before its body was complete; nothing was stored");
  }
  if (signal.aborted) throw new ApiError(400, "upload_incomplete", "the upload was aborted before its body was complete; nothing was stored");
}

const fileCursor = z.object({ createdAt: z.iso.datetime(), id: z.uuid() });

/** Files, newest first, optionally filtered by a substring of the name. */
export async function listFiles(db: Db, query: { limit: number; cursor?: string | undefined; q?: string | undefined }) {
  const after = decodeCursor(query.cursor, fileCursor);
  const where: Prisma.LibraryFileWhereInput = {
    ...(query.q ? { name: { contains: query.q, mode: "insensitive" } } : {}),
    ...(after ? { OR: [{ createdAt: { lt: new Date(after.createdAt) } }, { createdAt: new Date(after.createdAt), id: { lt: after.id } }] } : {}),
  };
  const rows = await db.libraryFile.findMany({ where, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: query.limit + 1 });
  const page = toPage(rows, query.limit, (file) => ({ createdAt: file.createdAt.toISOString(), id: file.id }));
  return { items: page.items.map(toFileView), nextCursor: page.nextCursor };
}

/** One file's metadata. */
export async function getFile(db: Db, id: string) {
  const file = await db.libraryFile.findUnique({ where: { id } });
  if (!file) throw notFound("file");
  return toFileView(file);
}

async function inUse(db: Db, id: string, name: string): Promise<ApiError | undefined> {
  const refs = await db.jobVersionFile.findMany({
    where: { fileId: id },
    select: { jobVersion: { select: { number: true, job: { select: { name: true } } } } },
    orderBy: { jobVersionId: "asc" },
    take: 6,
  });
  if (refs.length === 0) return undefined;
  const listed = refs.slice(0, 5).map((r) => `version ${r.jobVersion.number} of job ${r.jobVersion.job.name}`);
  const more = refs.length > 5 ? " and more" : "";
  return new ApiError(409, "file_in_use", `file ${name} is used by ${listed.join(", ")}${more}; delete those jobs (or save versions of them that copy another file and delete the old ones) first`);
}

/** Deletes a file and its bytes; refused (409) while any job version refers to it. */
export async function deleteFile(db: PrismaClient, id: string, principal: Principal, audit: Audit): Promise<void> {
  try {
    await db.$transaction(async (tx) => {
      const [file] = await tx.$queryRaw<{ id: string; name: string; size: bigint; sha256: string }[]>`SELECT id, name, size, sha256 FROM files WHERE id = ${id}::uuid FOR UPDATE`;
      if (!file) throw notFound("file");
      const refused = await inUse(tx, id, file.name);
      if (refused) throw refused;
      await tx.libraryFile.delete({ where: { id } });
      await audit({ action: "file.delete", entityType: "file", entityId: id, summary: `${principal.username} deleted file ${file.name}`, details: { name: file.name, size: Number(file.size), sha256: file.sha256 } }, tx);
    });
  } catch (error) {
    // A job version saved concurrently took a reference first: the foreign key refuses the delete.
    if ((error as { code?: string })?.code === "P2003") throw new ApiError(409, "file_in_use", "the file became used by a job version while it was being deleted");
    throw error;
  }
}

/**
 * Pins each `winrm.copy` step's `file` (a name or an id) to one stored file: the saved version
 * carries its id and SHA-256, so later uploads under the same name change only versions saved
 * after them. Problems are 400s naming `body.steps[i].file`.
 */
export async function pinFiles(db: Db, definition: JobDefinition): Promise<JobDefinition> {
  const refs = fileReferences(definition);
  if (refs.length === 0) return definition;
  const steps = [...definition.steps];
  const details: ErrorDetail[] = [];
  for (const ref of refs) {
    const file = await findLibraryFile(db, ref.file, ref.sha256);
    if (!file) {
      const path = `body.steps[${ref.stepIndex}].file`;
      const message = ref.sha256 ? `${path} names no file in the library with SHA-256 ${ref.sha256}: "${ref.file}"` : `${path} names no file in the library: "${ref.file}" (upload it with POST /api/files first)`;
      details.push({ path, message });
      continue;
    }
    steps[ref.stepIndex] = { ...steps[ref.stepIndex]!, file: file.id, sha256: file.sha256 } as JobDefinition["steps"][number];
  }
  if (details.length > 0) throw new ApiError(400, "validation_failed", details.map((d) => d.message).join("; "), { details });
  return { ...definition, steps };
}

/** Maps the data layer's refusal of an unknown file id to the API's 400. */
export function fileLinkError(error: unknown): never {
  if (error instanceof DbError && error.code === "not_found" && error.field?.startsWith("steps[")) {
    const path = `body.${error.field}`;
    throw new ApiError(400, "validation_failed", `body.${error.message}`, { details: [{ path, message: `body.${error.message}` }] });
  }
  throw error;
}
