// Changing the file library: uploads streamed into PostgreSQL (never buffered whole), and deletion
// while no job version refers to a file.
import { storeFile, type Db, type PrismaClient } from "@opsconductor/db";
import { env } from "../../env.server.ts";
import { FILE_NAME_HEADER, fileNameSchema } from "../../schemas/files.ts";
import type { Audit } from "../audit/audit.server.ts";
import type { Principal } from "../auth/tokens.server.ts";
import { ApiError, invalidField, isStillReferenced, notFound, payloadTooLarge } from "../errors.server.ts";
import { toFileView } from "./queries.server.ts";

/** The upload's name: the `name` query parameter, else the X-File-Name header (percent-encoded UTF-8). */
export function uploadName(fromQuery: string | undefined, fromHeader: string | null): string {
  let raw = fromQuery;
  let path = "query.name";
  if (raw === undefined) {
    if (fromHeader === null) throw invalidField("query.name", `is required: name the file with ?name=<name> or the ${FILE_NAME_HEADER} header`);
    path = `headers.${FILE_NAME_HEADER}`;
    try {
      raw = decodeURIComponent(fromHeader);
    } catch {
      throw invalidField(path, "is not valid percent-encoded UTF-8");
    }
  }
  const parsed = fileNameSchema.safeParse(raw);
  if (!parsed.success) throw invalidField(path, parsed.error.issues[0]!.message);
  return parsed.data;
}

/** The bytes of an upload: the size the client announced, the body as it arrives (at most `limit` bytes), and a signal aborted when the client goes away. */
export interface UploadBody {
  declaredBytes: number | null;
  chunks(limit: number): AsyncGenerator<Uint8Array>;
  signal: AbortSignal;
}

/**
 * Receives an upload into the library under `name`. The bytes go to chunk rows as they arrive, in
 * one transaction with the file row and the audit entry: a body over the limit (413), a client
 * that goes away or an upload that outlasts its time limit leaves no row behind.
 */
export async function uploadFile(db: PrismaClient, upload: UploadBody, name: string, principal: Principal, audit: Audit) {
  const { FILE_UPLOAD_MAX_BYTES: limit, FILE_UPLOAD_TIMEOUT_SEC: timeoutSec } = env();
  if (upload.declaredBytes !== null && upload.declaredBytes > limit) throw payloadTooLarge(limit);
  const body = receive(upload.chunks(limit), upload.signal);
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
    if (isStillReferenced(error)) throw new ApiError(409, "file_in_use", "the file became used by a job version while it was being deleted");
    throw error;
  }
}
