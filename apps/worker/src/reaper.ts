// Runs whose worker stopped heart-beating (killed, host lost, cut off from the database) are failed
// with a reason, or put back in the queue while their job's retries last, so no run stays "running"
// forever. Every worker runs this; the UPDATE is idempotent. A worker gives up its own runs before
// its lease ends (see worker.ts), and every write it makes after its claim is fenced by (worker id,
// attempt), so taking a run over here can never let two attempts write to it.
import { notifyRun, resendRunJob, retryDelaySec, retryPolicyOf, RUN_QUEUE, type PrismaClient, type RunJobData } from "@opsconductor/db";
import type { PgBoss } from "pg-boss";

/** How long a worker may go without a heartbeat before its running runs are declared lost (WORKER_LEASE_SEC). */
export const LOST_AFTER_MS = 30_000;

interface LostRun {
  id: string;
  status: "queued" | "failed";
  attempt: number;
  queue_job_id: string | null;
  retries: unknown;
}

/**
 * Fails (or re-queues) the running runs of workers not seen for `leaseMs`; returns their ids. With
 * `boss`, a re-queued run gets a new queue job after its retry delay, rather than waiting for
 * pg-boss to notice the old job's lapsed heartbeat.
 */
export async function reapLostRuns(prisma: PrismaClient, options: { leaseMs?: number; boss?: PgBoss } = {}): Promise<string[]> {
  const leaseSec = (options.leaseMs ?? LOST_AFTER_MS) / 1000;
  // One statement for the run and its steps: a claim of the re-queued run waits for both.
  const lost = await prisma.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<LostRun[]>`
      WITH lost AS (
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
              WHERE w.id = r.worker_id AND w.last_seen_at > now() - make_interval(secs => ${leaseSec}))
         RETURNING r.id, r.status, r.attempt, r.queue_job_id, v.definition->'retries' AS retries
      ), steps AS (
        UPDATE job_run_steps s SET status = 'failed', finished_at = now(), error = 'the worker was lost'
          FROM lost WHERE s.run_id = lost.id AND s.status IN ('running', 'pending')
      )
      SELECT id, status::text AS status, attempt, queue_job_id, retries FROM lost`;
    if (options.boss) {
      for (const run of rows.filter((r) => r.status === "queued")) {
        const old = run.queue_job_id ? await options.boss.getJobById<RunJobData>(RUN_QUEUE, run.queue_job_id) : null;
        const retries = retryPolicyOf(run.retries);
        await resendRunJob(tx, options.boss, old?.data ?? { runId: run.id }, {
          startAfterSec: retryDelaySec(retries, run.attempt),
          retryLimit: retries.limit - run.attempt,
          retryDelaySec: retries.delaySec,
          retryBackoff: retries.backoff,
        });
      }
    }
    return rows;
  });
  for (const run of lost) await notifyRun(prisma, { runId: run.id, kind: "run" });
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
