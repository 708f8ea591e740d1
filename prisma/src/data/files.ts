// The file library's bytes: each file is a row in `files` plus its content as ordered fixed-size rows
// of `file_chunks`, all in PostgreSQL, so every worker on every machine reads the same bytes. Stored
// in one transaction with its chunks, a file is whole or absent; once stored it never changes.
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { OpenedFile } from "@opsconductor/core";
import type { Db } from "../database/client.ts";
import { DbError } from "../database/errors.ts";
import type { Prisma } from "../generated/client.ts";

/** Bytes per chunk row: large enough that a 1 GiB file is 1024 rows, small enough to hold one in memory. */
export const FILE_CHUNK_BYTES = 1024 * 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What `storeFile` needs; `chunks` are the bytes in order, in pieces of any size. */
export interface NewFile {
  name: string;
  uploadedBy: { id: string; name: string } | null;
  chunks: AsyncIterable<Uint8Array>;
}

/**
 * Stores a file's bytes as chunk rows while they arrive, hashing them on the way. Call it inside a
 * transaction: if `chunks` throws, the transaction rolls back and nothing of the file remains.
 */
export async function storeFile(tx: Db, input: NewFile) {
  const file = await tx.libraryFile.create({
    data: { name: input.name, size: 0, sha256: "", chunkSize: FILE_CHUNK_BYTES, uploadedById: input.uploadedBy?.id ?? null, uploadedByName: input.uploadedBy?.name ?? null },
  });
  const hash = createHash("sha256");
  let block = Buffer.allocUnsafe(FILE_CHUNK_BYTES);
  let filled = 0;
  let index = 0;
  let size = 0;
  // One chunk is written while the next one is received: receiving and writing overlap.
  let inflight: Promise<unknown> = Promise.resolve();
  const flush = async () => {
    const data = block.subarray(0, filled);
    const at = index++;
    block = Buffer.allocUnsafe(FILE_CHUNK_BYTES);
    filled = 0;
    await inflight;
    inflight = insertChunk(tx, file.id, at, data);
    inflight.catch(() => undefined); // surfaced by the next await of it
  };
  for await (const piece of input.chunks) {
    hash.update(piece);
    size += piece.byteLength;
    let offset = 0;
    while (offset < piece.byteLength) {
      const take = Math.min(FILE_CHUNK_BYTES - filled, piece.byteLength - offset);
      block.set(piece.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === FILE_CHUNK_BYTES) await flush();
    }
  }
  if (filled > 0) await flush();
  await inflight;
  return tx.libraryFile.update({ where: { id: file.id }, data: { size, sha256: hash.digest("hex") } });
}

// Chunk bytes travel as base64 text decoded by PostgreSQL: through Prisma's driver adapter that is
// several times faster than a bytea parameter or result (measured: docs/performance.md).
function insertChunk(db: Db, fileId: string, index: number, data: Buffer) {
  return db.$executeRaw`INSERT INTO file_chunks (file_id, index, data) VALUES (${fileId}::uuid, ${index}, decode(${data.toString("base64")}, 'base64'))`;
}

async function readChunk(db: Db, fileId: string, index: number): Promise<Buffer | undefined> {
  const [row] = await db.$queryRaw<{ data: string }[]>`SELECT encode(data, 'base64') AS data FROM file_chunks WHERE file_id = ${fileId}::uuid AND index = ${index}`;
  return row ? Buffer.from(row.data, "base64") : undefined;
}

/** The newest file whose id or name is `ref` (and whose digest is `sha256`, when given), or null. */
export async function findLibraryFile(db: Db, ref: string, sha256?: string) {
  const digest = sha256 ? { sha256 } : {};
  if (UUID.test(ref)) {
    const byId = await db.libraryFile.findFirst({ where: { id: ref, ...digest } });
    if (byId) return byId;
  }
  return db.libraryFile.findFirst({ where: { name: ref, ...digest }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
}

/**
 * The file's bytes as a stream that reads one chunk row at a time, when the consumer asks for
 * more, so memory stays flat whatever the size. Fails if the rows end before `size` bytes.
 */
export function readLibraryFile(db: Db, file: { id: string; size: bigint | number }): Readable {
  const expected = BigInt(file.size);
  let index = 0;
  let read = 0n;
  return new Readable({
    // Room for the chunk being consumed and the next one, fetched meanwhile.
    highWaterMark: 2 * FILE_CHUNK_BYTES,
    read() {
      readChunk(db, file.id, index)
        .then((data) => {
          if (!data) {
            if (read !== expected) this.destroy(new Error(`the stored file ${file.id} is incomplete: ${read} of ${expected} bytes`));
            else this.push(null);
            return;
          }
          index++;
          read += BigInt(data.byteLength);
          this.push(data);
        })
        .catch((error: unknown) => this.destroy(error as Error));
    },
  });
}

/** Opens a library file (by id or name) for core's `winrm.copy` executor (its `openFile` option). */
export async function openLibraryFile(db: Db, ref: string, options: { sha256?: string | undefined } = {}): Promise<OpenedFile> {
  const file = await findLibraryFile(db, ref, options.sha256);
  if (!file) throw new Error(options.sha256 ? `the file library holds no file "${ref}" with SHA-256 ${options.sha256}` : `the file library holds no file "${ref}"`);
  return { stream: readLibraryFile(db, file), name: file.name, size: Number(file.size), sha256: file.sha256 };
}

/** One `winrm.copy` step's file reference in a definition. */
export interface FileReference {
  stepIndex: number;
  file: string;
  sha256: string | undefined;
}

/** The `file` references of a definition's `winrm.copy` steps. */
export function fileReferences(definition: unknown): FileReference[] {
  const steps = (definition as { steps?: unknown })?.steps;
  if (!Array.isArray(steps)) return [];
  return steps.flatMap((step: unknown, stepIndex) => {
    const s = step as { type?: unknown; file?: unknown; sha256?: unknown } | null;
    if (s?.type !== "winrm.copy" || typeof s.file !== "string") return [];
    return [{ stepIndex, file: s.file, sha256: typeof s.sha256 === "string" ? s.sha256 : undefined }];
  });
}

/**
 * Records which library files a job version copies (its steps' `file` ids), so that those files
 * cannot be deleted while the version exists. References that are not ids of stored files are a
 * DbError naming the step.
 */
export async function linkVersionFiles(db: Db, jobVersionId: string, definition: Prisma.InputJsonValue): Promise<void> {
  const ids = new Set<string>();
  for (const ref of fileReferences(definition)) {
    if (!UUID.test(ref.file) || (await db.libraryFile.count({ where: { id: ref.file } })) === 0) {
      throw new DbError("not_found", `steps[${ref.stepIndex}].file "${ref.file}" is not the id of a file in the library`, `steps[${ref.stepIndex}].file`);
    }
    ids.add(ref.file.toLowerCase());
  }
  if (ids.size > 0) await db.jobVersionFile.createMany({ data: [...ids].map((fileId) => ({ jobVersionId, fileId })), skipDuplicates: true });
}
