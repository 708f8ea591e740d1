// Retry or discard a dead-lettered run (admins, from the system page); the queue SQL is the data
// layer's (queue.ts), this adds the refusal messages and the audit entry in the same transaction.
import { discardDeadLetteredRun, notifyRun, retryDeadLetteredRun, type PrismaClient } from "@opsconductor/db";
import type { Audit } from "../audit/audit.server.ts";
import type { Principal } from "../auth/tokens.server.ts";
import { ApiError } from "../errors.server.ts";
import { queue } from "../queue.server.ts";

const REFUSALS = {
  not_found: "this dead-lettered run is gone: it was retried or discarded already, or its retention ended",
  run_missing: "the run of this queue job no longer exists; discard it instead",
  run_not_finished: "the run is not failed or timed out (it was queued again, is running, or ended otherwise), so it is not retried; discard the queue job instead",
} as const;

/** Queues a dead-lettered run again as a new attempt; refused (409) with the reason when it cannot be. */
export async function retryDeadLetter(prisma: PrismaClient, queueJobId: string, principal: Principal, audit: Audit): Promise<{ runId: string }> {
  const boss = await queue();
  const runId = await prisma.$transaction(async (tx) => {
    const result = await retryDeadLetteredRun(tx, boss, queueJobId);
    if (!result.retried) throw new ApiError(409, result.reason, REFUSALS[result.reason]);
    await audit({ action: "run.dead_letter_retry", entityType: "run", entityId: result.runId, summary: `${principal.username} retried dead-lettered run ${result.runId}`, details: { queueJobId } }, tx);
    return result.runId;
  });
  await notifyRun(prisma, { runId, kind: "run" });
  return { runId };
}

/** Removes a dead-lettered run's queue job; the run keeps its outcome. 404 when it is gone already. */
export async function discardDeadLetter(prisma: PrismaClient, queueJobId: string, principal: Principal, audit: Audit): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const discarded = await discardDeadLetteredRun(tx, queueJobId);
    if (!discarded) throw new ApiError(404, "not_found", REFUSALS.not_found);
    const runId = discarded.runId ?? "(unknown)";
    await audit({ action: "run.dead_letter_discard", entityType: "run", entityId: runId, summary: `${principal.username} discarded the dead-lettered queue job of run ${runId}`, details: { queueJobId } }, tx);
  });
}
