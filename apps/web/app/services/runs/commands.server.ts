// Acting on runs: a cancel, and a rerun of the same job version with the same parameters.
import { cancelRun as cancelRunInTransaction, requestRun, type Prisma, type PrismaClient, type RunStatus } from "@opsconductor/db";
import type { Audit } from "../audit/audit.server.ts";
import type { Principal } from "../auth/tokens.server.ts";
import { ApiError, notFound } from "../errors.server.ts";
import { queue } from "../queue.server.ts";
import { getRun, secretParameterNames, type RunView } from "./queries.server.ts";

/**
 * Cancels a run: a queued one ends `canceled` at once (`immediate: true`); a running one gets
 * cancelRequestedAt and its worker is asked to stop. A finished run is a 409.
 */
export async function cancelRun(prisma: PrismaClient, runId: string, principal: Principal, audit: Audit): Promise<{ immediate: boolean; run: RunView }> {
  const immediate = await prisma.$transaction(async (tx) => {
    const result = await cancelRunInTransaction(tx, runId);
    if (!result) throw notFound("run");
    if (result.outcome === "finished") throw new ApiError(409, "run_finished", `the run already finished (${result.status}); there is nothing to cancel`);
    const summary = result.outcome === "canceled" ? `${principal.username} canceled queued run ${runId}` : `${principal.username} asked running run ${runId} to cancel`;
    await audit({ action: "run.cancel", entityType: "run", entityId: runId, summary, details: { previousStatus: result.status } }, tx);
    return result.outcome === "canceled";
  });
  return { immediate, run: await getRun(prisma, runId) };
}

/**
 * Queues a new run of the same job version with the same stored parameters. Secret values are never
 * stored, so a run that had secret parameters cannot be repeated from its row (409).
 */
export async function rerunRun(prisma: PrismaClient, runId: string, principal: Principal, audit: Audit): Promise<{ runId: string; status: RunStatus }> {
  const original = await prisma.jobRun.findUnique({ where: { id: runId }, include: { job: { select: { name: true, active: true } }, jobVersion: { select: { number: true, definition: true } } } });
  if (!original) throw notFound("run");
  const parameters = (original.parameters ?? {}) as Record<string, unknown>;
  const secrets = secretParameterNames(original.jobVersion.definition).filter((name) => name in parameters);
  if (secrets.length > 0) {
    throw new ApiError(
      409,
      "secret_parameters",
      `this run had secret parameters (${secrets.join(", ")}), whose values are never stored; start a new run with POST /api/jobs/${original.jobId}/run and supply them again`,
    );
  }
  if (!original.job.active) throw new ApiError(409, "job_inactive", `job ${original.job.name} is inactive; activate it before running it again`);
  const boss = await queue();
  const { run } = await prisma.$transaction(async (tx) => {
    const result = await requestRun(tx, boss, {
      jobId: original.jobId,
      jobVersionId: original.jobVersionId,
      // Refused above when a secret parameter is stored, so there is nothing to seal.
      parameters: { stored: parameters as Record<string, Prisma.InputJsonValue>, secrets: {} },
      trigger: principal.via === "cookie" ? "manual" : "api",
      requestedById: principal.id,
    });
    await audit(
      {
        action: "run.rerun",
        entityType: "run",
        entityId: result.run.id,
        summary: `${principal.username} reran run ${runId} of job ${original.job.name} (version ${original.jobVersion.number})`,
        details: { rerunOf: runId, jobId: original.jobId, version: original.jobVersion.number, parameters },
      },
      tx,
    );
    return result;
  });
  return { runId: run.id, status: run.status };
}
