// What the executor is doing: the run queue's pg-boss jobs by state, the runs in progress, and the
// workers that heart-beat. Counts come straight from pg-boss's job table, since its cached queue
// counts are only refreshed by a supervising instance.
import { RUN_DEAD_LETTER_QUEUE, RUN_QUEUE, WORKER_STALE_AFTER_MS, type Db } from "@opsconductor/db";

/** pg-boss job states, in the order a job passes through them. */
export const QUEUE_STATES = ["created", "retry", "active", "completed", "cancelled", "failed"] as const;
type QueueState = (typeof QUEUE_STATES)[number];
type Counts = Record<QueueState, number>;

const PGBOSS_JOB_TABLE = "pgboss.job";
const ACTIVE_RUN_LIMIT = 100;

async function queueCounts(db: Db, queues: string[]): Promise<Map<string, Counts>> {
  const empty = () => Object.fromEntries(QUEUE_STATES.map((s) => [s, 0])) as Counts;
  const out = new Map(queues.map((q) => [q, empty()]));
  // Until some process has started pg-boss its schema does not exist: nothing is queued then.
  const [table] = await db.$queryRaw<{ t: string | null }[]>`SELECT to_regclass(${PGBOSS_JOB_TABLE})::text AS t`;
  if (!table?.t) return out;
  const rows = await db.$queryRaw<{ name: string; state: string; n: number }[]>`
    SELECT name, state::text AS state, count(*)::int AS n FROM pgboss.job WHERE name = ANY(${queues}) GROUP BY name, state`;
  for (const row of rows) {
    const counts = out.get(row.name);
    if (counts && row.state in counts) counts[row.state as QueueState] = row.n;
  }
  return out;
}

/** Queue counts by state, runs in progress and workers with whether each is online. */
export async function executorStatus(db: Db, now = new Date()) {
  const [counts, running, workers] = await Promise.all([
    queueCounts(db, [RUN_QUEUE, RUN_DEAD_LETTER_QUEUE]),
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
