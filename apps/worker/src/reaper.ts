// Runs whose worker stopped heart-beating (killed, host lost) are failed with a reason, so no run
// stays "running" forever. Every worker runs this; the UPDATE is idempotent.
import { notifyRun, type PrismaClient } from "@opsconductor/db";

/** How long a worker may go without a heartbeat before its running runs are declared lost. */
export const LOST_AFTER_MS = 30_000;

/** Fails the running runs of workers not seen for `lostAfterMs`; returns their ids. */
export async function reapLostRuns(prisma: PrismaClient, lostAfterMs = LOST_AFTER_MS): Promise<string[]> {
  // A run whose job declares retries goes back to "queued": pg-boss redelivers its job once the dead
  // worker's heartbeat has expired. Otherwise the run fails.
  const lost = await prisma.$queryRaw<{ id: string; status: string }[]>`
    UPDATE job_runs r
       SET status = (CASE WHEN r.attempt <= coalesce((v.definition->'retries'->>'limit')::int, 0) THEN 'queued' ELSE 'failed' END)::"RunStatus",
           finished_at = CASE WHEN r.attempt <= coalesce((v.definition->'retries'->>'limit')::int, 0) THEN NULL ELSE now() END,
           error = 'the worker ' || coalesce(r.worker_id, '(unknown)') || ' executing this run stopped responding (killed or disconnected); ' ||
                   CASE WHEN r.attempt <= coalesce((v.definition->'retries'->>'limit')::int, 0) THEN 'the run will be retried' ELSE 'the run did not finish' END
      FROM job_versions v
     WHERE v.id = r.job_version_id
       AND r.status = 'running'
       AND NOT EXISTS (
         SELECT 1 FROM worker_heartbeats w
          WHERE w.id = r.worker_id AND w.last_seen_at > now() - make_interval(secs => ${lostAfterMs / 1000}))
     RETURNING r.id, r.status::text AS status`;
  for (const run of lost) {
    await prisma.jobRunStep.updateMany({ where: { runId: run.id, status: { in: ["running", "pending"] } }, data: { status: "failed", finishedAt: new Date(), error: "the worker was lost" } });
    await notifyRun(prisma, { runId: run.id, kind: "run" });
  }
  return lost.map((r) => r.id);
}

/**
 * Fails runs still marked running under this worker's id: with a fixed WORKER_ID, a restarted worker
 * would otherwise keep its predecessor's heartbeat row fresh and hide those runs from the reaper.
 */
export async function failRunsOfPreviousIncarnation(prisma: PrismaClient, workerId: string): Promise<string[]> {
  const runs = await prisma.jobRun.findMany({ where: { status: "running", workerId }, select: { id: true } });
  for (const { id } of runs) {
    const updated = await prisma.jobRun.updateMany({
      where: { id, status: "running", workerId },
      data: { status: "failed", finishedAt: new Date(), error: `the worker ${workerId} restarted while executing this run; the run did not finish` },
    });
    if (updated.count === 0) continue;
    await prisma.jobRunStep.updateMany({ where: { runId: id, status: { in: ["running", "pending"] } }, data: { status: "failed", finishedAt: new Date(), error: "the worker restarted" } });
    await notifyRun(prisma, { runId: id, kind: "run" });
  }
  return runs.map((r) => r.id);
}
