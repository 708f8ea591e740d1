// Reading the file library: listing, one file's metadata, and the one view of a file row.
import type { Db, Prisma } from "@opsconductor/db";
import type { FileListQuery } from "../../schemas/files.ts";
import { notFound } from "../errors.server.ts";
import { sortedPage } from "../pagination.server.ts";

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

/** Files in `query.sort` order (newest first by default), optionally filtered by a substring of the name. */
export async function listFiles(db: Db, query: FileListQuery) {
  const keyset = sortedPage(query, { column: query.sort.key, direction: query.sort.direction, kind: query.sort.key === "name" ? "text" : "date" });
  const where: Prisma.LibraryFileWhereInput = query.q ? { name: { contains: query.q, mode: "insensitive" } } : {};
  const rows = await db.libraryFile.findMany(keyset.args(where));
  const page = keyset.page(rows);
  return { items: page.items.map(toFileView), nextCursor: page.nextCursor };
}

/** One file's metadata. */
export async function getFile(db: Db, id: string) {
  const file = await db.libraryFile.findUnique({ where: { id } });
  if (!file) throw notFound("file");
  return toFileView(file);
}

/** The job versions that copy a file (at most `limit`, by job name then version): why a delete is refused. */
export async function fileUsers(db: Db, id: string, limit = 50): Promise<{ jobId: string; jobName: string; version: number }[]> {
  const refs = await db.jobVersionFile.findMany({
    where: { fileId: id },
    select: { jobVersion: { select: { number: true, job: { select: { id: true, name: true } } } } },
    orderBy: [{ jobVersion: { job: { name: "asc" } } }, { jobVersion: { number: "asc" } }],
    take: limit,
  });
  return refs.map((r) => ({ jobId: r.jobVersion.job.id, jobName: r.jobVersion.job.name, version: r.jobVersion.number }));
}
