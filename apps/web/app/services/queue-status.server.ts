// The run queue's status (GET /api/executor/status): its pg-boss jobs by state, the runs in progress,
// and the workers that heart-beat.
import { queueJobCounts, RUN_DEAD_LETTER_QUEUE, RUN_QUEUE, WORKER_STALE_AFTER_MS, type Db } from "@opsconductor/db";

const ACTIVE_RUN_LIMIT = 100;

/** Queue counts by state, runs in progress and workers with whether each is online. */
export async function queueStatus(db: Db, now = new Date()) {
  const [counts, running, workers] = await Promise.all([
    queueJobCounts(db, [RUN_QUEUE, RUN_DEAD_LETTER_QUEUE]),
    db.jobRun.findMany({
      where: { status: "running" },
      orderBy: [{ startedAt: "asc" }, { id: "asc" }],
      take: ACTIVE_RUN_LIMIT,
      select: { id: true, jobId: true, job: { select: { name: true } }, workerId: true, attempt: true, trigger: true, queuedAt: true, startedAt: true, cancelRequestedAt: true },
    }),
    db.workerHeartbeat.findMany({ orderBy: [{ startedAt: "asc" }, { id: "asc" }], take: 100 }),
  ]);
  return {
    queue: { name: RUN_QUEUE, counts: counts.get(RUN_QUEUE)! },
    deadLetter: { name: RUN_DEAD_LETTER_QUEUE, counts: counts.get(RUN_DEAD_LETTER_QUEUE)! },
    activeRuns: running.map(({ job, ...run }) => ({ ...run, jobName: job.name })),
    workers: workers.map((w) => ({ ...w, online: now.getTime() - w.lastSeenAt.getTime() < WORKER_STALE_AFTER_MS })),
    checkedAt: now,
  };
}
