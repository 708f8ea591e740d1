// Asking for a run of a job's current version: parameters checked against its declarations,
// secret values sealed for the worker and masked in the row, the run queued with its pg-boss job.
import { DbError, prepareRunParameters, requestRun as queueRun, sealRunParameters, type PrismaClient, type RunParameterSealer } from "@opsconductor/db";
import type { PgBoss } from "pg-boss";
import type { RunRequest } from "../../schemas/jobs.ts";
import type { Audit } from "../audit/audit.server.ts";
import type { Principal } from "../auth/tokens.server.ts";
import { keyring } from "../credentials/keyring.server.ts";
import { ApiError, notFound } from "../errors.server.ts";
import { checkParameters } from "../jobs/definitions.server.ts";

const sealWithKeyring: RunParameterSealer = (runId, secrets) => sealRunParameters(keyring(), runId, secrets);

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
