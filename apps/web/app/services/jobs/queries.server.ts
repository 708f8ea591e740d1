// Reading jobs and their immutable versions.
import type { Db, Prisma } from "@opsconductor/db";
import { z } from "zod";
import { INT4_MAX } from "../../schemas/common.ts";
import type { JobListQuery } from "../../schemas/jobs.ts";
import { notFound } from "../errors.server.ts";
import { decodeCursor, newestFirst, toPage, type PageRequest } from "../pagination.server.ts";
import { containsAny } from "../text-search.server.ts";

const jobInclude = { currentVersion: { select: { number: true, definition: true } } } as const;
const jobListInclude = { currentVersion: { select: { number: true } } } as const;
type JobRow = Prisma.JobGetPayload<{ include: typeof jobInclude }>;
type JobListRow = Prisma.JobGetPayload<{ include: typeof jobListInclude }>;

/** A job row as the API shows it; with its current definition for one job, without in lists. */
export function toJobView(job: JobListRow & { currentVersion: { definition?: Prisma.JsonValue } | null }, withDefinition = false) {
  return {
    id: job.id,
    name: job.name,
    description: job.description,
    active: job.active,
    version: job.currentVersion?.number ?? null,
    ...(withDefinition ? { definition: job.currentVersion?.definition ?? null } : {}),
    createdById: job.createdById,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
}

/** A job with its current version, or a 404. */
export async function findJob(db: Db, id: string): Promise<JobRow> {
  const job = await db.job.findUnique({ where: { id }, include: jobInclude });
  if (!job) throw notFound("job");
  return job;
}

/** Jobs, newest first, optionally filtered by a name/description search and the active flag. */
export async function listJobs(db: Db, query: JobListQuery) {
  const keyset = newestFirst(query, "createdAt");
  const where: Prisma.JobWhereInput = {
    ...(query.active === undefined ? {} : { active: query.active }),
    ...containsAny(query.q, ["name", "description"]),
  };
  const rows = await db.job.findMany({ include: jobListInclude, ...keyset.args(where) });
  const page = keyset.page(rows);
  return { items: page.items.map((job) => toJobView(job)), nextCursor: page.nextCursor };
}

/** One job with its current version's number and definition. */
export async function getJob(db: Db, id: string) {
  return toJobView(await findJob(db, id), true);
}

const versionCursor = z.object({ number: z.number().int().min(1).max(INT4_MAX) });

/** A job's versions, newest first, without their definitions. */
export async function listVersions(db: Db, jobId: string, query: PageRequest) {
  if ((await db.job.count({ where: { id: jobId } })) === 0) throw notFound("job");
  const after = decodeCursor(query.cursor, versionCursor);
  const rows = await db.jobVersion.findMany({
    where: { jobId, ...(after ? { number: { lt: after.number } } : {}) },
    select: { number: true, createdById: true, createdAt: true },
    orderBy: { number: "desc" },
    take: query.limit + 1,
  });
  return toPage(rows, query.limit, (v) => ({ number: v.number }));
}

/** One version of a job with its definition. */
export async function getVersion(db: Db, jobId: string, number: number) {
  const version = await db.jobVersion.findUnique({ where: { jobId_number: { jobId, number } }, include: { job: { select: { currentVersionId: true } } } });
  if (!version) throw notFound("job version");
  return toJobVersionView(version);
}

/** A version row as the API shows it, with whether it is the job's current one. */
export function toJobVersionView(version: Prisma.JobVersionGetPayload<{ include: { job: { select: { currentVersionId: true } } } }>) {
  return { jobId: version.jobId, number: version.number, current: version.job.currentVersionId === version.id, definition: version.definition, createdById: version.createdById, createdAt: version.createdAt };
}
