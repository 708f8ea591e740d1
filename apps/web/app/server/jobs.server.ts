// Jobs and their immutable versions: the definition is validated by @opsconductor/core, each edit
// adds a version, and runs are queued through the same transaction as their pg-boss job.
import { jobDefinitionJsonSchema, JobDefinitionError, ParameterError, parseJobDefinition, resolveParameters, type JobDefinition, type ValidationIssue } from "@opsconductor/core";
import {
  addJobVersion,
  createJob as insertJob,
  DbError,
  notify,
  prepareRunParameters,
  requestRun as queueRun,
  SCHEDULES_CHANNEL,
  sealRunParameters,
  type Db,
  type Prisma,
  type PrismaClient,
  type RunParameterSealer,
} from "@opsconductor/db";
import type { PgBoss } from "pg-boss";
import { z } from "zod";
import type { RouteContext } from "./api.server.ts";
import { decodeCursor, INT4_MAX, toPage } from "./api.server.ts";
import type { Principal } from "./auth.server.ts";
import { ApiError, notFound, type ErrorDetail } from "./errors.server.ts";
import { fileLinkError, pinFiles } from "./files.server.ts";
import { keyring } from "./keyring.server.ts";

const { $schema: _schema, ...definitionJsonSchema } = jobDefinitionJsonSchema();

/** A job definition as posted; core validates it afterwards so every problem is reported with its path. */
export const jobDefinitionBody = z.record(z.string(), z.unknown()).meta({ ...definitionJsonSchema, description: "A job definition (see @opsconductor/core)." });

/** A `true`/`false` query parameter. */
export const booleanQuery = z.enum(["true", "false"], { error: 'must be "true" or "false"' }).transform((v) => v === "true");

type Audit = RouteContext<unknown, unknown, unknown, Principal>["audit"];

/** Turns core's `{ path, message }` issues into API details under `prefix` (e.g. "body"). */
export function issuesToDetails(issues: readonly ValidationIssue[], prefix: string): ErrorDetail[] {
  return issues.map((issue) => {
    if (issue.path === "") return { path: prefix, message: issue.message };
    const joined = issue.path.startsWith("[") ? `${prefix}${issue.path}` : `${prefix}.${issue.path}`;
    // Core's messages start with the issue's path; put the prefix in front of it.
    const message = issue.message.startsWith(issue.path) ? `${joined}${issue.message.slice(issue.path.length)}` : `${joined}: ${issue.message}`;
    return { path: joined, message };
  });
}

function validationFailed(details: ErrorDetail[]): ApiError {
  return new ApiError(400, "validation_failed", details.map((d) => d.message).join("; "), { details });
}

/** Validates a posted job definition; every problem becomes a 400 detail under `body`. */
export function parseDefinition(input: unknown): JobDefinition {
  try {
    return parseJobDefinition(input);
  } catch (error) {
    if (error instanceof JobDefinitionError) throw validationFailed(issuesToDetails(error.issues, "body"));
    throw error;
  }
}

/** Checks supplied parameters against a job version's declarations; problems name `prefix.<name>`. */
export function checkParameters(definition: Prisma.JsonValue, supplied: Record<string, unknown>, prefix: string) {
  let parsed: JobDefinition;
  try {
    parsed = parseJobDefinition(definition);
  } catch (error) {
    if (!(error instanceof JobDefinitionError)) throw error;
    throw new ApiError(409, "definition_invalid", "the job's current version does not pass validation any more; save a corrected version first");
  }
  try {
    return resolveParameters(parsed, supplied);
  } catch (error) {
    if (error instanceof ParameterError) throw validationFailed(issuesToDetails(error.issues, prefix));
    throw error;
  }
}

const nameConflict = (name: string) =>
  new ApiError(409, "conflict", `a job named "${name}" already exists`, { details: [{ path: "body.name", message: `body.name "${name}" is already taken` }] });

const jobInclude = { currentVersion: { select: { number: true, definition: true } } } as const;
const jobListInclude = { currentVersion: { select: { number: true } } } as const;
type JobRow = Prisma.JobGetPayload<{ include: typeof jobInclude }>;
type JobListRow = Prisma.JobGetPayload<{ include: typeof jobListInclude }>;

function presentJob(job: JobListRow & { currentVersion: { definition?: Prisma.JsonValue } | null }, withDefinition = false) {
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

async function findJob(db: Db, id: string): Promise<JobRow> {
  const job = await db.job.findUnique({ where: { id }, include: jobInclude });
  if (!job) throw notFound("job");
  return job;
}

// Serialises changes to one job (two edits would otherwise race for the same version number).
async function lockJob(tx: Db, id: string): Promise<{ id: string; name: string; active: boolean }> {
  const [job] = await tx.$queryRaw<{ id: string; name: string; active: boolean }[]>`SELECT id, name, active FROM jobs WHERE id = ${id}::uuid FOR UPDATE`;
  if (!job) throw notFound("job");
  return job;
}

const jobCursor = z.object({ createdAt: z.iso.datetime(), id: z.uuid() });

export interface JobListQuery {
  limit: number;
  cursor?: string | undefined;
  q?: string | undefined;
  active?: boolean | undefined;
}

/** Jobs, newest first, optionally filtered by a name/description search and the active flag. */
export async function listJobs(db: Db, query: JobListQuery) {
  const after = decodeCursor(query.cursor, jobCursor);
  const where: Prisma.JobWhereInput = {
    ...(query.active === undefined ? {} : { active: query.active }),
    ...(query.q ? { OR: [{ name: { contains: query.q, mode: "insensitive" } }, { description: { contains: query.q, mode: "insensitive" } }] } : {}),
    ...(after
      ? { AND: [{ OR: [{ createdAt: { lt: new Date(after.createdAt) } }, { createdAt: new Date(after.createdAt), id: { lt: after.id } }] }] }
      : {}),
  };
  const rows = await db.job.findMany({ where, include: jobListInclude, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: query.limit + 1 });
  const page = toPage(rows, query.limit, (job) => ({ createdAt: job.createdAt.toISOString(), id: job.id }));
  return { items: page.items.map((job) => presentJob(job)), nextCursor: page.nextCursor };
}

/** One job with its current version's number and definition. */
export async function getJob(db: Db, id: string) {
  return presentJob(await findJob(db, id), true);
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
export async function addVersion(db: PrismaClient, id: string, input: unknown, principal: Principal, audit: Audit) {
  const parsed = parseDefinition(input);
  await db.$transaction(async (tx) => {
    const job = await lockJob(tx, id);
    const definition = await pinFiles(tx, parsed);
    const version = await addJobVersion(tx, id, definition as unknown as Prisma.InputJsonValue, principal.id).catch(fileLinkError);
    await tx.job
      .update({ where: { id }, data: { name: definition.name, description: definition.description ?? null } })
      .catch((error: unknown) => {
        if ((error as { code?: string }).code === "P2002") throw nameConflict(definition.name);
        throw error;
      });
    await audit(
      {
        action: "job.version",
        entityType: "job",
        entityId: id,
        summary: `${principal.username} saved version ${version.number} of job ${definition.name}`,
        details: { version: version.number, ...(job.name !== definition.name ? { previousName: job.name, name: definition.name } : {}) },
      },
      tx,
    );
  });
  return getJob(db, id);
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

const versionCursor = z.object({ number: z.number().int().min(1).max(INT4_MAX) });

/** A job's versions, newest first, without their definitions. */
export async function listVersions(db: Db, jobId: string, query: { limit: number; cursor?: string | undefined }) {
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
  return { jobId, number: version.number, current: version.job.currentVersionId === version.id, definition: version.definition, createdById: version.createdById, createdAt: version.createdAt };
}

const sealWithKeyring: RunParameterSealer = (runId, secrets) => sealRunParameters(keyring(), runId, secrets);

export interface RunRequest {
  parameters?: Record<string, unknown> | undefined;
  idempotencyKey?: string | undefined;
}

/**
 * Queues a run of the job's current version: parameters are resolved against its declarations and
 * secret values are masked before the row is stored. A repeated idempotency key returns the
 * existing run (`created: false`).
 */
export async function requestRun(db: PrismaClient, boss: PgBoss, id: string, request: RunRequest, principal: Principal, audit: Audit) {
  const job = await db.job.findUnique({ where: { id }, include: { currentVersion: true } });
  if (!job?.currentVersion) throw notFound("job");
  if (request.idempotencyKey) {
    const existing = await db.jobRun.findUnique({ where: { jobId_idempotencyKey: { jobId: id, idempotencyKey: request.idempotencyKey } } });
    if (existing) return { runId: existing.id, status: existing.status, created: false };
  }
  if (!job.active) throw new ApiError(409, "job_inactive", `job ${job.name} is inactive; activate it before running it`);
  const parameters = prepareRunParameters(checkParameters(job.currentVersion.definition, request.parameters ?? {}, "body.parameters"));
  const input = {
    jobId: id,
    jobVersionId: job.currentVersion.id,
    parameters,
    trigger: principal.via === "cookie" ? ("manual" as const) : ("api" as const),
    requestedById: principal.id,
    idempotencyKey: request.idempotencyKey ?? null,
  };
  let result;
  try {
    result = await db.$transaction(async (tx) => {
      const queued = await queueRun(tx, boss, input, sealWithKeyring);
      if (queued.created) {
        await audit(
          {
            action: "run.request",
            entityType: "run",
            entityId: queued.run.id,
            summary: `${principal.username} requested a run of job ${job.name} (version ${job.currentVersion!.number})`,
            details: { jobId: id, version: job.currentVersion!.number, parameters: parameters.stored, ...(request.idempotencyKey ? { idempotencyKey: request.idempotencyKey } : {}) },
          },
          tx,
        );
      }
      return queued;
    });
  } catch (error) {
    // Two requests with the same new key raced: the unique (job_id, idempotency_key) kept one.
    if (!(error instanceof DbError && error.code === "conflict" && request.idempotencyKey)) throw error;
    const existing = await db.jobRun.findUnique({ where: { jobId_idempotencyKey: { jobId: id, idempotencyKey: request.idempotencyKey } } });
    if (!existing) throw error;
    return { runId: existing.id, status: existing.status, created: false };
  }
  return { runId: result.run.id, status: result.run.status, created: result.created };
}
