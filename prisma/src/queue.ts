// The run queue on pg-boss, shared by the web app (which enqueues) and the worker (which executes).
// A run row and its queue job are always created in one transaction: neither exists without the other.
import type { PgBoss } from "pg-boss";
import { fromPrisma } from "pg-boss";
import type { Db, PrismaClient } from "./client.ts";
import { createRun, type NewRun } from "./runs.ts";

/** Queue that carries one job per run; the job's id is the run's id. */
export const RUN_QUEUE = "opsconductor-runs";
/** Where pg-boss moves a run's job after its last failed attempt. */
export const RUN_DEAD_LETTER_QUEUE = "opsconductor-runs-dead";

/** Payload of a run's queue job. */
export interface RunJobData {
  runId: string;
  /**
   * Values of secret parameters, which job_runs never stores: sealed with core's encryptSecret under
   * the master key, AAD `run-parameters:<runId>`, so the queue table holds no plaintext either.
   */
  sealedSecretParameters?: unknown;
}

/** Creates the run queues if missing; safe to call from every process at start. */
export async function ensureRunQueues(boss: PgBoss): Promise<void> {
  if (!(await boss.getQueue(RUN_DEAD_LETTER_QUEUE))) await boss.createQueue(RUN_DEAD_LETTER_QUEUE, { retentionSeconds: 14 * 24 * 3600 });
  if (!(await boss.getQueue(RUN_QUEUE))) {
    // A worker refreshes its claim by heartbeat; one that stops (killed, host lost) lets the job
    // expire within heartbeatSeconds, so no run stays "running" for long.
    await boss.createQueue(RUN_QUEUE, { deadLetter: RUN_DEAD_LETTER_QUEUE, heartbeatSeconds: 15, expireInSeconds: 24 * 3600, retryLimit: 0 });
  }
}

/** The retry policy a job version declares (core's `retries`), or none. */
export async function declaredRetries(db: Db, jobVersionId: string): Promise<{ limit: number; delaySec: number; backoff: boolean }> {
  const version = await db.jobVersion.findUnique({ where: { id: jobVersionId }, select: { definition: true } });
  const retries = (version?.definition as { retries?: { limit?: unknown; delaySec?: unknown; backoff?: unknown } } | null)?.retries;
  const limit = typeof retries?.limit === "number" ? retries.limit : 0;
  return { limit, delaySec: typeof retries?.delaySec === "number" ? retries.delaySec : 30, backoff: retries?.backoff !== false };
}

export interface EnqueueOptions {
  /** See RunJobData.sealedSecretParameters; pass NewRun.id so the caller can seal before inserting. */
  sealedSecretParameters?: unknown;
  /** Extra attempts after a failure; by default what the job version declares in `retries`. */
  retryLimit?: number;
  retryDelaySec?: number;
}

/**
 * Inserts a queued run and sends its queue job in ONE transaction; a repeated idempotency key
 * returns the existing run without sending anything.
 */
export async function enqueueRun(prisma: PrismaClient, boss: PgBoss, input: NewRun, options: EnqueueOptions = {}) {
  return prisma.$transaction((tx) => enqueueRunInTransaction(tx, boss, input, options));
}

/** enqueueRun inside a transaction the caller already holds (the scheduler claims and enqueues in one). */
export async function enqueueRunInTransaction(tx: Db, boss: PgBoss, input: NewRun, options: EnqueueOptions = {}) {
  const result = await createRun(tx, input);
  if (!result.created) return result;
  const data: RunJobData = { runId: result.run.id, ...(options.sealedSecretParameters ? { sealedSecretParameters: options.sealedSecretParameters } : {}) };
  const retries = options.retryLimit === undefined ? await declaredRetries(tx, input.jobVersionId) : { limit: options.retryLimit, delaySec: options.retryDelaySec ?? 30, backoff: true };
  const jobId = await boss.send(RUN_QUEUE, data as unknown as object, {
    id: result.run.id,
    db: fromPrisma(tx),
    retryLimit: retries.limit,
    ...(retries.limit > 0 ? { retryDelay: retries.delaySec, retryBackoff: retries.backoff } : {}),
  });
  const run = await tx.jobRun.update({ where: { id: result.run.id }, data: { queueJobId: jobId ?? result.run.id } });
  return { run, created: true };
}

/** Seconds before attempt `attempt + 1` of a run whose job declares `retries` (doubling with backoff). */
export function retryDelaySec(retries: { delaySec: number; backoff?: boolean | undefined }, attempt: number): number {
  return retries.backoff === false ? retries.delaySec : retries.delaySec * 2 ** (attempt - 1);
}

/**
 * Sends a new queue job for a run that is (back) in the queue, delivered after `startAfterSec`, and
 * points the run at it. `data` is the run's original payload (its sealed secret parameters). The new
 * job has a fresh id: the old one may still exist, and when it is delivered the claim finds nothing to do.
 */
export async function resendRunJob(tx: Db, boss: PgBoss, data: RunJobData, options: { startAfterSec: number; retryLimit: number; retryDelaySec?: number; retryBackoff?: boolean }): Promise<string> {
  const jobId = await boss.send(RUN_QUEUE, data as unknown as object, {
    db: fromPrisma(tx),
    startAfter: Math.max(0, Math.round(options.startAfterSec)),
    retryLimit: Math.max(0, options.retryLimit),
    ...(options.retryLimit > 0 ? { retryDelay: options.retryDelaySec ?? 30, retryBackoff: options.retryBackoff ?? true } : {}),
  });
  if (!jobId) throw new Error(`pg-boss did not accept the queue job of run ${data.runId}`);
  await tx.jobRun.update({ where: { id: data.runId }, data: { queueJobId: jobId } });
  return jobId;
}

/**
 * Fails runs still `queued` whose current queue job ended (failed, completed or cancelled, or was
 * removed) at least `graceSec` ago without any worker claiming them: a database error before the
 * claim, for instance, fails the queue job while the run row stays behind. Returns their ids.
 */
export async function failRunsWithEndedQueueJobs(db: Db, graceSec: number): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    UPDATE job_runs r
       SET status = 'failed', finished_at = now(),
           error = 'the run never started: its queue job ended before a worker could claim it (see the worker log for the error)'
     WHERE r.status = 'queued'
       AND r.queue_job_id IS NOT NULL
       AND r.queued_at < now() - make_interval(secs => ${graceSec})
       AND NOT EXISTS (
         SELECT 1 FROM pgboss.job j
          WHERE j.name = ${RUN_QUEUE} AND j.id = r.queue_job_id::uuid
            AND (j.state < 'completed' OR j.completed_on > now() - make_interval(secs => ${graceSec})))
    RETURNING r.id`;
  return rows.map((r) => r.id);
}
