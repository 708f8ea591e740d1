// Reading jobs and their immutable versions.
import type { Db, Prisma } from "@opsconductor/db";
import { z } from "zod";
import { INT4_MAX } from "../../schemas/common.ts";
import type { JobListQuery } from "../../schemas/jobs.ts";
import { notFound } from "../errors.server.ts";
import { decodeCursor, sortedPage, toPage, type PageRequest } from "../pagination.server.ts";
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
    retention: { runDays: job.retentionDays, runCount: job.retentionRuns, outputDays: job.outputRetentionDays },
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

const SORT_KINDS = { name: "text", updatedAt: "date", createdAt: "date" } as const;

function jobListWhere(query: JobListQuery): Prisma.JobWhereInput {
  return {
    ...(query.active === undefined ? {} : { active: query.active }),
    ...containsAny(query.q, ["name", "description"]),
  };
}

/** Jobs in `query.sort` order (newest first unless asked otherwise), optionally filtered by a name/description search and the active flag. */
export async function listJobs(db: Db, query: JobListQuery) {
  const keyset = sortedPage(query, { column: query.sort.key, direction: query.sort.direction, kind: SORT_KINDS[query.sort.key] });
  const rows = await db.job.findMany({ include: jobListInclude, ...keyset.args(jobListWhere(query)) });
  const page = keyset.page(rows);
  return { items: page.items.map((job) => toJobView(job)), nextCursor: page.nextCursor };
}

/** A row of the Jobs page: the job, its newest run, its next scheduled run and who saved its current version. */
export interface JobSummary {
  id: string;
  name: string;
  description: string | null;
  active: boolean;
  version: number | null;
  lastRun: { id: string; status: string; queuedAt: Date; finishedAt: Date | null } | null;
  nextRunAt: Date | null;
  changedBy: string | null;
  changedAt: Date | null;
}

/** The Jobs page's rows: listJobs' order and filters, each job with its last run, next scheduled run and last change. */
export async function listJobSummaries(db: Db, query: JobListQuery): Promise<{ items: JobSummary[]; nextCursor: string | null }> {
  const keyset = sortedPage(query, { column: query.sort.key, direction: query.sort.direction, kind: SORT_KINDS[query.sort.key] });
  const rows = await db.job.findMany({
    include: { currentVersion: { select: { number: true, createdAt: true, createdBy: { select: { username: true } } } } },
    ...keyset.args(jobListWhere(query)),
  });
  const page = keyset.page(rows);
  const ids = page.items.map((job) => job.id);
  if (ids.length === 0) return { items: [], nextCursor: page.nextCursor };
  // The newest run of each job: one index scan of (job_id, queued_at desc) per job.
  const runs = await db.$queryRaw<{ id: string; job_id: string; status: string; queued_at: Date; finished_at: Date | null }[]>`
    SELECT DISTINCT ON (job_id) id, job_id, status::text AS status, queued_at, finished_at
    FROM job_runs WHERE job_id = ANY(${ids}::uuid[]) ORDER BY job_id, queued_at DESC, id DESC`;
  const lastRuns = new Map(runs.map((run) => [run.job_id, { id: run.id, status: run.status, queuedAt: run.queued_at, finishedAt: run.finished_at }]));
  const schedules = await db.schedule.groupBy({ by: ["jobId"], where: { jobId: { in: ids }, enabled: true, nextRunAt: { not: null } }, _min: { nextRunAt: true } });
  const nextRuns = new Map(schedules.map((row) => [row.jobId, row._min.nextRunAt]));
  return {
    items: page.items.map((job) => ({
      id: job.id,
      name: job.name,
      description: job.description,
      active: job.active,
      version: job.currentVersion?.number ?? null,
      lastRun: lastRuns.get(job.id) ?? null,
      nextRunAt: nextRuns.get(job.id) ?? null,
      changedBy: job.currentVersion?.createdBy?.username ?? null,
      changedAt: job.currentVersion?.createdAt ?? null,
    })),
    nextCursor: page.nextCursor,
  };
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

/** The targets a step may name, for the editor's target picker: id and name, by name (at most 2000). */
export function listTargetChoices(db: Db) {
  return db.target.findMany({ select: { id: true, name: true }, orderBy: { name: "asc" }, take: 2000 });
}

/** A job's versions, newest first, each with who saved it (for the job page). */
export async function listVersionsWithAuthors(db: Db, jobId: string, query: PageRequest) {
  const after = decodeCursor(query.cursor, versionCursor);
  const rows = await db.jobVersion.findMany({
    where: { jobId, ...(after ? { number: { lt: after.number } } : {}) },
    select: { id: true, number: true, createdAt: true, createdBy: { select: { username: true } } },
    orderBy: { number: "desc" },
    take: query.limit + 1,
  });
  const page = toPage(rows, query.limit, (v) => ({ number: v.number }));
  return { items: page.items.map((v) => ({ id: v.id, number: v.number, createdAt: v.createdAt, author: v.createdBy?.username ?? null })), nextCursor: page.nextCursor };
}
