// What the system page and the dashboard show: workers (with the runs each has in progress), the
// run queue by state, dead-lettered runs, database health, the scheduler, the product's version,
// the metrics history and retention (the last prune pass, the defaults the workers reported).
// Queue and retention SQL stay in the data layer; this module only composes it.
import {
  checkDatabase,
  lastPrunePass,
  listDeadLetteredRuns,
  metricHistory,
  queueJobCounts,
  retentionDefaults,
  RUN_DEAD_LETTER_QUEUE,
  RUN_QUEUE,
  WORKER_STALE_AFTER_MS,
  type Db,
  type MetricRange,
  type QueueJobCounts,
} from "@opsconductor/db";
import packageJson from "../../../package.json" with { type: "json" };

/** The product's version, as the web app's package declares it. */
export const PRODUCT_VERSION: string = packageJson.version;

/** One worker as the UI shows it. */
export interface WorkerView {
  id: string;
  host: string;
  pid: number;
  version: string;
  concurrency: number;
  runsInProgress: number;
  /** Its newest runs and how each stands: what happened to them when a worker went away. */
  recentRuns: { id: string; jobName: string; status: string; error: string | null }[];
  startedAt: Date;
  lastSeenAt: Date;
  online: boolean;
}

/** Workers that heart-beat, each with its running runs; offline once unseen for WORKER_STALE_AFTER_MS. */
export async function listWorkers(db: Db, now = new Date()): Promise<WorkerView[]> {
  const workers = await db.workerHeartbeat.findMany({ orderBy: [{ startedAt: "asc" }, { id: "asc" }], take: 100 });
  const ids = workers.map((w) => w.id);
  const [running, recent] = await Promise.all([
    db.jobRun.groupBy({ by: ["workerId"], where: { status: "running", workerId: { in: ids } }, _count: { _all: true } }),
    // The newest few runs of each worker, in one query.
    db.$queryRaw<{ worker_id: string; id: string; job_name: string; status: string; error: string | null }[]>`
      SELECT x.worker_id, x.id::text AS id, x.job_name, x.status, x.error FROM (
        SELECT r.worker_id, r.id, j.name AS job_name, r.status::text AS status, left(r.error, 300) AS error,
               row_number() OVER (PARTITION BY r.worker_id ORDER BY r.started_at DESC NULLS LAST, r.id) AS n
          FROM job_runs r JOIN jobs j ON j.id = r.job_id WHERE r.worker_id = ANY(${ids}::text[])) x
       WHERE x.n <= 5 ORDER BY x.worker_id, x.n`,
  ]);
  const byWorker = new Map(running.map((r) => [r.workerId, r._count._all]));
  const recentOf = (id: string) => recent.filter((r) => r.worker_id === id).map((r) => ({ id: r.id, jobName: r.job_name, status: r.status, error: r.error }));
  return workers.map((w) => ({
    id: w.id,
    host: w.host,
    pid: w.pid,
    version: w.version,
    concurrency: w.concurrency,
    runsInProgress: byWorker.get(w.id) ?? 0,
    recentRuns: recentOf(w.id),
    startedAt: w.startedAt,
    lastSeenAt: w.lastSeenAt,
    online: now.getTime() - w.lastSeenAt.getTime() < WORKER_STALE_AFTER_MS,
  }));
}

/** Everything on the system page but the charts. */
export async function systemStatus(db: Db, now = new Date()) {
  const database = await checkDatabase(db);
  if (!database.ok) return { database, version: PRODUCT_VERSION, checkedAt: now, workers: [], queue: null, deadLetter: null, deadLettered: [], scheduler: null, staleAfterSec: WORKER_STALE_AFTER_MS / 1000 };
  const [workers, counts, deadLettered, scheduler] = await Promise.all([
    listWorkers(db, now),
    queueJobCounts(db, [RUN_QUEUE, RUN_DEAD_LETTER_QUEUE]),
    listDeadLetteredRuns(db),
    db.schedulerState.findUnique({ where: { id: 1 } }),
  ]);
  return {
    database,
    version: PRODUCT_VERSION,
    checkedAt: now,
    workers,
    queue: counts.get(RUN_QUEUE)! as QueueJobCounts,
    deadLetter: counts.get(RUN_DEAD_LETTER_QUEUE)! as QueueJobCounts,
    deadLettered,
    scheduler: { enabled: scheduler?.enabled ?? true, lastTickAt: scheduler?.lastTickAt ?? null, lastLagMs: scheduler?.lastLagMs ?? null },
    staleAfterSec: WORKER_STALE_AFTER_MS / 1000,
  };
}

/** The metrics history the charts draw, for the last hour, day or week. */
export function systemCharts(db: Db, range: MetricRange) {
  return metricHistory(db, range);
}

/** The retention panel: the last prune pass (null before the first) and the defaults the workers reported (null before any did). */
export async function systemRetention(db: Db) {
  const [lastPass, defaults] = await Promise.all([lastPrunePass(db), retentionDefaults(db)]);
  return { lastPass, defaults };
}
