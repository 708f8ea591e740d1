import type { Db } from "../database/client.ts";

/** A worker that has not been seen for this long is reported offline. */
export const WORKER_STALE_AFTER_MS = 30_000;

export interface WorkerIdentity {
  id: string;
  host: string;
  pid: number;
  version: string;
  concurrency: number;
}

/**
 * Records that a worker is alive (insert on first beat, refresh `last_seen_at` after). The time is
 * the database's own, the clock the reaper compares it with: a worker's clock may be off.
 */
export async function recordWorkerHeartbeat(db: Db, worker: WorkerIdentity): Promise<void> {
  await db.$executeRaw`
    INSERT INTO worker_heartbeats (id, host, pid, version, concurrency, started_at, last_seen_at)
    VALUES (${worker.id}, ${worker.host}, ${worker.pid}, ${worker.version}, ${worker.concurrency}, now(), now())
    ON CONFLICT (id) DO UPDATE SET last_seen_at = now(), concurrency = EXCLUDED.concurrency`;
}

/** Removes a worker's heartbeat row when it shuts down cleanly. */
export async function removeWorkerHeartbeat(db: Db, id: string): Promise<void> {
  await db.workerHeartbeat.deleteMany({ where: { id } });
}

export interface SystemOverview {
  workers: { id: string; host: string; pid: number; version: string; concurrency: number; startedAt: Date; lastSeenAt: Date; online: boolean }[];
  schedulerEnabled: boolean;
  counts: { users: number; credentials: number; targets: number; jobs: number; schedules: number; queuedRuns: number; runningRuns: number };
}

/** What an operator checks first: workers alive, scheduler on, and how much the system holds. */
export async function getSystemOverview(db: Db, now = new Date()): Promise<SystemOverview> {
  const [workers, scheduler, users, credentials, targets, jobs, schedules, queuedRuns, runningRuns] = await Promise.all([
    db.workerHeartbeat.findMany({ orderBy: { startedAt: "asc" }, take: 100 }),
    db.schedulerState.findUnique({ where: { id: 1 } }),
    db.user.count(),
    db.credential.count(),
    db.target.count(),
    db.job.count(),
    db.schedule.count({ where: { enabled: true } }),
    db.jobRun.count({ where: { status: "queued" } }),
    db.jobRun.count({ where: { status: "running" } }),
  ]);
  return {
    workers: workers.map((w) => ({ ...w, online: now.getTime() - w.lastSeenAt.getTime() < WORKER_STALE_AFTER_MS })),
    schedulerEnabled: scheduler?.enabled ?? true,
    counts: { users, credentials, targets, jobs, schedules, queuedRuns, runningRuns },
  };
}
