// Changing jobs: each edit of the definition adds an immutable version; deletion takes the job's
// versions, runs and schedules with it.
import { addJobVersion, createJob as insertJob, DbError, notify, SCHEDULES_CHANNEL, type Db, type Prisma, type PrismaClient } from "@opsconductor/db";
import type { Audit } from "../audit/audit.server.ts";
import type { Principal } from "../auth/tokens.server.ts";
import { outputOutlivesRuns, type JobRetention } from "../../schemas/jobs.ts";
import { ApiError, isUniqueViolation, notFound } from "../errors.server.ts";
import { fileLinkError, pinFiles } from "../files/job-files.server.ts";
import { parseDefinition } from "./definitions.server.ts";
import { getJob, getVersion } from "./queries.server.ts";

const nameConflict = (name: string) =>
  new ApiError(409, "conflict", `a job named "${name}" already exists`, { details: [{ path: "body.name", message: `body.name "${name}" is already taken` }] });

// Serialises changes to one job (two edits would otherwise race for the same version number).
async function lockJob(tx: Db, id: string): Promise<{ id: string; name: string; active: boolean }> {
  const [job] = await tx.$queryRaw<{ id: string; name: string; active: boolean }[]>`SELECT id, name, active FROM jobs WHERE id = ${id}::uuid FOR UPDATE`;
  if (!job) throw notFound("job");
  return job;
}

/** Creates a job from a definition: its name and description come from the definition. */
export async function createJob(db: PrismaClient, input: unknown, principal: Principal, audit: Audit) {
  const parsed = parseDefinition(input);
  const created = await db.$transaction(async (tx) => {
    const definition = await pinFiles(tx, parsed);
    const job = await insertJob(tx, {
      name: definition.name,
      description: definition.description ?? null,
      definition: definition as unknown as Prisma.InputJsonValue,
      createdById: principal.id,
    }).catch((error: unknown) => {
      if (error instanceof DbError && error.code === "conflict") throw nameConflict(definition.name);
      fileLinkError(error);
    });
    await audit({ action: "job.create", entityType: "job", entityId: job.id, summary: `${principal.username} created job ${definition.name}`, details: { name: definition.name, version: 1 } }, tx);
    return job.id;
  });
  return getJob(db, created);
}

/** Saves a new definition as the job's next immutable version; the job takes its name and description. */
export async function addVersion(db: PrismaClient, id: string, input: unknown, principal: Principal, audit: Audit, options: { restoredFrom?: number } = {}) {
  const parsed = parseDefinition(input);
  await db.$transaction(async (tx) => {
    const job = await lockJob(tx, id);
    const definition = await pinFiles(tx, parsed);
    const version = await addJobVersion(tx, id, definition as unknown as Prisma.InputJsonValue, principal.id).catch(fileLinkError);
    await tx.job
      .update({ where: { id }, data: { name: definition.name, description: definition.description ?? null } })
      .catch((error: unknown) => {
        if (isUniqueViolation(error)) throw nameConflict(definition.name);
        throw error;
      });
    await audit(
      {
        action: "job.version",
        entityType: "job",
        entityId: id,
        summary: options.restoredFrom === undefined ? `${principal.username} saved version ${version.number} of job ${definition.name}` : `${principal.username} restored version ${options.restoredFrom} of job ${definition.name} as version ${version.number}`,
        details: { version: version.number, ...(options.restoredFrom === undefined ? {} : { restoredFrom: options.restoredFrom }), ...(job.name !== definition.name ? { previousName: job.name, name: definition.name } : {}) },
      },
      tx,
    );
  });
  return getJob(db, id);
}

/** Saves an old version's definition again, as the job's next version (versions are never edited). */
export async function restoreVersion(db: PrismaClient, id: string, number: number, principal: Principal, audit: Audit) {
  const old = await getVersion(db, id, number);
  return addVersion(db, id, old.definition, principal, audit, { restoredFrom: number });
}

/** Turns a job on or off; an inactive job keeps its history but cannot be run. */
export async function setJobActive(db: PrismaClient, id: string, active: boolean, principal: Principal, audit: Audit) {
  await db.$transaction(async (tx) => {
    const job = await lockJob(tx, id);
    if (job.active === active) return;
    await tx.job.update({ where: { id }, data: { active } });
    await audit({ action: "job.update", entityType: "job", entityId: id, summary: `${principal.username} ${active ? "activated" : "deactivated"} job ${job.name}`, details: { active } }, tx);
  });
  return getJob(db, id);
}

/** Sets the fields of a job's retention policy that `retention` names (null: the worker's default). */
export async function setJobRetention(db: PrismaClient, id: string, retention: JobRetention, principal: Principal, audit: Audit) {
  await db.$transaction(async (tx) => {
    const job = await lockJob(tx, id);
    const data = {
      ...(retention.runDays === undefined ? {} : { retentionDays: retention.runDays }),
      ...(retention.runCount === undefined ? {} : { retentionRuns: retention.runCount }),
      ...(retention.outputDays === undefined ? {} : { outputRetentionDays: retention.outputDays }),
    };
    const updated = await tx.job.update({ where: { id }, data, select: { retentionDays: true, outputRetentionDays: true } });
    // Against the job's own values after the change (a PATCH may send one field); the worker's defaults are not known here.
    const conflict = outputOutlivesRuns(updated.retentionDays, updated.outputRetentionDays);
    if (conflict) {
      const message = `body.retention.outputDays ${conflict}`;
      throw new ApiError(400, "validation_failed", message, { details: [{ path: "body.retention.outputDays", message }] });
    }
    await audit({ action: "job.update", entityType: "job", entityId: id, summary: `${principal.username} changed the retention of job ${job.name}`, details: { retention } }, tx);
  });
  return getJob(db, id);
}

/** Deletes a job with its versions, runs and schedules; refused while a run is queued or running. */
export async function deleteJob(db: PrismaClient, id: string, principal: Principal, audit: Audit): Promise<void> {
  await db.$transaction(async (tx) => {
    const job = await lockJob(tx, id);
    const active = await tx.jobRun.count({ where: { jobId: id, status: { in: ["queued", "running"] } } });
    if (active > 0) {
      throw new ApiError(409, "job_busy", `job ${job.name} has ${active} queued or running ${active === 1 ? "run" : "runs"}; cancel or wait for ${active === 1 ? "it" : "them"} before deleting the job`);
    }
    const schedules = await tx.schedule.count({ where: { jobId: id } });
    await tx.job.delete({ where: { id } });
    if (schedules > 0) await notify(tx, SCHEDULES_CHANNEL, {});
    await audit({ action: "job.delete", entityType: "job", entityId: id, summary: `${principal.username} deleted job ${job.name}`, details: { name: job.name, schedules } }, tx);
  });
}
