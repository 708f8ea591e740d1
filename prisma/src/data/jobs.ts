import type { Db } from "../database/client.ts";
import { DbError, translatePrismaError } from "../database/errors.ts";
import { linkVersionFiles } from "./files.ts";
import type { Prisma } from "../generated/client.ts";

export interface NewJob {
  name: string;
  description?: string | null;
  /** A job definition already validated by @opsconductor/core's parseJobDefinition. */
  definition: Prisma.InputJsonValue;
  createdById?: string | null;
}

/**
 * Creates a job with its first immutable version (number 1) and points the job at it. The `file`
 * of each `winrm.copy` step must already be a library file's id (pin names first); the version
 * then refers to those files.
 */
export async function createJob(db: Db, input: NewJob) {
  try {
    const job = await db.job.create({
      data: {
        name: input.name,
        description: input.description ?? null,
        createdById: input.createdById ?? null,
        versions: { create: { number: 1, definition: input.definition, createdById: input.createdById ?? null } },
      },
      include: { versions: true },
    });
    const version = job.versions[0]!;
    await linkVersionFiles(db, version.id, input.definition);
    return await db.job.update({ where: { id: job.id }, data: { currentVersionId: version.id }, include: { currentVersion: true } });
  } catch (error) {
    translatePrismaError(error, "job");
  }
}

/** Adds the next immutable version of a job and makes it current (file references as in createJob); versions are never edited. */
export async function addJobVersion(db: Db, jobId: string, definition: Prisma.InputJsonValue, createdById?: string | null) {
  const latest = await db.jobVersion.findFirst({ where: { jobId }, orderBy: { number: "desc" }, select: { number: true } });
  if (!latest) throw new DbError("not_found", "job not found");
  try {
    const version = await db.jobVersion.create({ data: { jobId, number: latest.number + 1, definition, createdById: createdById ?? null } });
    await linkVersionFiles(db, version.id, definition);
    await db.job.update({ where: { id: jobId }, data: { currentVersionId: version.id } });
    return version;
  } catch (error) {
    // Two concurrent edits race for the same number: the unique (job_id, number) picks one.
    translatePrismaError(error, "job version");
  }
}

/** Version `number` of a job, or null. */
export function getJobVersion(db: Db, jobId: string, number: number) {
  return db.jobVersion.findUnique({ where: { jobId_number: { jobId, number } } });
}
