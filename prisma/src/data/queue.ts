// The run queue on pg-boss, shared by the web app (which enqueues) and the worker (which executes).
// A run row and its queue job are always created in one transaction: neither exists without the other.
// Every query of pg-boss's own tables lives here, as pg-boss keeps its SQL in plans.ts.
import { retryPolicySchema, type RetryPolicy } from "@opsconductor/core";
import type { PgBoss } from "pg-boss";
import { fromPrisma } from "pg-boss";
import type { Db, PrismaClient } from "../database/client.ts";
import { createRun, type NewRun } from "./runs.ts";

/** Queue that carries one job per run; the job's id is the run's id. */
export const RUN_QUEUE = "opsconductor-runs";
/** Where pg-boss moves a run's job after its last failed attempt. */
export const RUN_DEAD_LETTER_QUEUE = "opsconductor-runs-dead";

/** Payload of a run's queue job. */
export interface RunJobData {
  runId: string;
  /**
   * Values of secret parameters, which job_runs never stores: sealed by sealRunParameters (bound to
   * the run's id), so the queue table holds no plaintext either.
   */
  sealedSecretParameters?: unknown;
}

/** Creates the run queues if missing (the run queue NOTIFYs its workers on send); safe to call from every process at start. */
export async function ensureRunQueues(boss: PgBoss): Promise<void> {
  if (!(await boss.getQueue(RUN_DEAD_LETTER_QUEUE))) await boss.createQueue(RUN_DEAD_LETTER_QUEUE, { retentionSeconds: 14 * 24 * 3600 });
  if (!(await boss.getQueue(RUN_QUEUE))) {
    // A worker refreshes its claim by heartbeat; one that stops (killed, host lost) lets the job
    // expire within heartbeatSeconds, so no run stays "running" for long.
    // notify: sending a run NOTIFYs in the sending transaction, so a listening worker claims it at
    // once instead of at its next poll (bench/pipeline.ts: the poll was most of a run's latency).
    await boss.createQueue(RUN_QUEUE, { deadLetter: RUN_DEAD_LETTER_QUEUE, heartbeatSeconds: 15, expireInSeconds: 24 * 3600, retryLimit: 0, notify: true });
  } else if (!(await boss.getQueue(RUN_QUEUE))!.notify) {
    await boss.updateQueue(RUN_QUEUE, { notify: true });
  }
}

// Core's defaults for a policy that declares no attempts, so they are written down once.
const NO_RETRIES: RetryPolicy = Object.freeze(retryPolicySchema.parse({ limit: 0 }));

/** The retry policy a definition's `retries` declares, with core's defaults; none when absent or invalid. */
export function retryPolicyOf(retries: unknown): RetryPolicy {
  if (retries === undefined || retries === null) return NO_RETRIES;
  const parsed = retryPolicySchema.safeParse(retries);
  return parsed.success ? parsed.data : NO_RETRIES;
}

/** The retry policy a job version declares (core's `retries`), or none. */
export async function declaredRetries(db: Db, jobVersionId: string): Promise<RetryPolicy> {
  const version = await db.jobVersion.findUnique({ where: { id: jobVersionId }, select: { definition: true } });
  return retryPolicyOf((version?.definition as { retries?: unknown } | null)?.retries);
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
  const retries = options.retryLimit === undefined ? await declaredRetries(tx, input.jobVersionId) : { limit: options.retryLimit, delaySec: options.retryDelaySec ?? NO_RETRIES.delaySec, backoff: NO_RETRIES.backoff };
  const jobId = await boss.send(RUN_QUEUE, data as unknown as object, {
    id: result.run.id,
    db: fromPrisma(tx),
    retryLimit: retries.limit,
    ...(retries.limit > 0 ? { retryDelay: retries.delaySec, retryBackoff: retries.backoff } : {}),
  });
  const run = await tx.jobRun.update({ where: { id: result.run.id }, data: { queueJobId: jobId ?? result.run.id } });
  return { run, created: true };
}

/** A run for enqueueRunsInTransaction: its id chosen by the caller, its sealed secret values (if any) beside it. */
export interface NewQueuedRun extends NewRun {
  id: string;
  sealedSecretParameters?: unknown;
}

/**
 * enqueueRunInTransaction for many runs in three statements (the run rows, their versions' retry
 * policies, their queue jobs), so the scheduler's claim transaction does not pay five round trips
 * per run. A run whose idempotency key its job already used is skipped; returns the ids created.
 */
export async function enqueueRunsInTransaction(tx: Db, boss: PgBoss, runs: NewQueuedRun[]): Promise<Set<string>> {
  if (runs.length === 0) return new Set();
  // queue_job_id is the run's id: the queue job below is sent with it. DO NOTHING also covers a key
  // repeated within this batch, and waits for a concurrent transaction inserting the same key.
  const rows = await tx.$queryRaw<{ id: string }[]>`
    INSERT INTO job_runs (id, job_id, job_version_id, parameters, trigger, requested_by_id, schedule_id, idempotency_key, queue_job_id, queued_at)
    SELECT v.id, v.job_id, v.job_version_id, v.parameters, v.trigger::"RunTrigger", v.requested_by_id, v.schedule_id, v.idempotency_key, v.id::text, clock_timestamp()
      FROM unnest(${runs.map((r) => r.id)}::uuid[], ${runs.map((r) => r.jobId)}::uuid[], ${runs.map((r) => r.jobVersionId)}::uuid[],
                  ${runs.map((r) => JSON.stringify(r.parameters))}::jsonb[], ${runs.map((r) => r.trigger ?? "manual")}::text[],
                  ${runs.map((r) => r.requestedById ?? null)}::uuid[], ${runs.map((r) => r.scheduleId ?? null)}::uuid[], ${runs.map((r) => r.idempotencyKey ?? null)}::text[])
           AS v(id, job_id, job_version_id, parameters, trigger, requested_by_id, schedule_id, idempotency_key)
    ON CONFLICT (job_id, idempotency_key) DO NOTHING
    RETURNING id`;
  const created = new Set(rows.map((r) => r.id));
  const fresh = runs.filter((r) => created.has(r.id));
  if (fresh.length === 0) return created;
  const versions = await tx.jobVersion.findMany({ where: { id: { in: [...new Set(fresh.map((r) => r.jobVersionId))] } }, select: { id: true, definition: true } });
  const retries = new Map(versions.map((v) => [v.id, retryPolicyOf((v.definition as { retries?: unknown } | null)?.retries)]));
  await boss.insert(
    RUN_QUEUE,
    fresh.map((run) => {
      const policy = retries.get(run.jobVersionId) ?? NO_RETRIES;
      const data: RunJobData = { runId: run.id, ...(run.sealedSecretParameters ? { sealedSecretParameters: run.sealedSecretParameters } : {}) };
      return { id: run.id, data, retryLimit: policy.limit, ...(policy.limit > 0 ? { retryDelay: policy.delaySec, retryBackoff: policy.backoff } : {}) };
    }),
    { db: fromPrisma(tx) },
  );
  return created;
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
    ...(options.retryLimit > 0 ? { retryDelay: options.retryDelaySec ?? NO_RETRIES.delaySec, retryBackoff: options.retryBackoff ?? NO_RETRIES.backoff } : {}),
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

// Until some process has started pg-boss its schema does not exist: nothing is queued then.
async function jobTableInstalled(db: Db): Promise<boolean> {
  const [table] = await db.$queryRaw<{ present: boolean }[]>`SELECT to_regclass('pgboss.job') IS NOT NULL AS present`;
  return table?.present === true;
}

/**
 * Takes a run's queue job off the queue unless a worker already has it; call it in the transaction
 * that cancels the run, so no worker picks the job up afterwards.
 */
export async function cancelQueueJob(tx: Db, jobId: string): Promise<void> {
  if (!(await jobTableInstalled(tx))) return;
  // pg-boss's job_state enum is ordered created, retry, active, ...: an active job belongs to a worker.
  await tx.$executeRaw`UPDATE pgboss.job SET state = 'cancelled', completed_on = now() WHERE name = ${RUN_QUEUE} AND id = ${jobId}::uuid AND state < 'active'`;
}

/** pg-boss job states, in the order a job passes through them. */
export const QUEUE_JOB_STATES = Object.freeze(["created", "retry", "active", "completed", "cancelled", "failed"] as const);
/** How many jobs of one queue are in each state. */
export type QueueJobCounts = Record<(typeof QUEUE_JOB_STATES)[number], number>;

/**
 * Jobs of each of `queues` by state, counted in pg-boss's job table itself: its cached queue counts
 * are only refreshed by a supervising instance.
 */
export async function queueJobCounts(db: Db, queues: readonly string[]): Promise<Map<string, QueueJobCounts>> {
  const empty = () => Object.fromEntries(QUEUE_JOB_STATES.map((s) => [s, 0])) as QueueJobCounts;
  const counts = new Map(queues.map((q) => [q, empty()]));
  if (!(await jobTableInstalled(db))) return counts;
  const rows = await db.$queryRaw<{ name: string; state: string; n: number }[]>`
    SELECT name, state::text AS state, count(*)::int AS n FROM pgboss.job WHERE name = ANY(${[...queues]}) GROUP BY name, state`;
  for (const row of rows) {
    const of = counts.get(row.name);
    if (of && row.state in of) of[row.state as keyof QueueJobCounts] = row.n;
  }
  return counts;
}

/** Runs waiting in the run queue for a worker (created, or failed and due again). */
export async function runQueueDepth(db: Db): Promise<number> {
  const counts = (await queueJobCounts(db, [RUN_QUEUE])).get(RUN_QUEUE)!;
  return counts.created + counts.retry;
}

/** A run whose queue job pg-boss moved to the dead-letter queue after its last failed attempt. */
export interface DeadLetteredRun {
  /** The dead-letter queue job's id (what retry and discard name). */
  queueJobId: string;
  runId: string | null;
  jobId: string | null;
  jobName: string | null;
  runStatus: string | null;
  deadLetteredAt: Date;
  /** Why the last attempt's queue job failed, as pg-boss recorded it (the error's message only). */
  reason: string;
  /** The run's own error, when it has one. */
  runError: string | null;
}

/** Dead-lettered runs not yet retried or discarded, newest first. The payload (sealed secrets) is never read. */
export async function listDeadLetteredRuns(db: Db, limit = 50): Promise<DeadLetteredRun[]> {
  if (!(await jobTableInstalled(db))) return [];
  const rows = await db.$queryRaw<{ id: string; run_id: string | null; job_id: string | null; job_name: string | null; run_status: string | null; created_on: Date; reason: string | null; run_error: string | null }[]>`
    SELECT j.id::text AS id, r.id::text AS run_id, r.job_id::text AS job_id, jb.name AS job_name, r.status::text AS run_status, j.created_on,
           left(coalesce(j.source_output->>'message', j.source_output->'value'->>'message', j.source_output->>'value'), 500) AS reason, left(r.error, 500) AS run_error
      FROM pgboss.job j
      LEFT JOIN job_runs r ON r.id::text = j.data->>'runId'
      LEFT JOIN jobs jb ON jb.id = r.job_id
     WHERE j.name = ${RUN_DEAD_LETTER_QUEUE} AND j.state < 'completed'
     ORDER BY j.created_on DESC, j.id
     LIMIT ${limit}`;
  return rows.map((r) => ({
    queueJobId: r.id,
    runId: r.run_id,
    jobId: r.job_id,
    jobName: r.job_name,
    runStatus: r.run_status,
    deadLetteredAt: r.created_on,
    reason: r.reason ?? "no reason was recorded",
    runError: r.run_error,
  }));
}

/** Removes a dead-lettered run's queue job (the run row stays as it is); null when there was none. */
export async function discardDeadLetteredRun(db: Db, queueJobId: string): Promise<{ runId: string | null } | null> {
  if (!(await jobTableInstalled(db))) return null;
  const [row] = await db.$queryRaw<{ run_id: string | null }[]>`
    DELETE FROM pgboss.job WHERE name = ${RUN_DEAD_LETTER_QUEUE} AND id = ${queueJobId}::uuid AND state < 'completed' RETURNING data->>'runId' AS run_id`;
  return row ? { runId: row.run_id } : null;
}

/** What retryDeadLetteredRun did: the run queued again, or why not. */
export type DeadLetterRetry = { retried: true; runId: string } | { retried: false; reason: "not_found" | "run_missing" | "run_not_finished" };

/**
 * Puts a dead-lettered run back in the queue as a new attempt: in the caller's transaction the run
 * (failed or timed out) becomes queued again, gets a fresh queue job with its original payload (its
 * sealed secret parameters), and the dead-letter job is removed. A run still queued, running or that
 * succeeded or was canceled is left alone.
 */
export async function retryDeadLetteredRun(tx: Db, boss: PgBoss, queueJobId: string): Promise<DeadLetterRetry> {
  if (!(await jobTableInstalled(tx))) return { retried: false, reason: "not_found" };
  const [job] = await tx.$queryRaw<{ data: RunJobData }[]>`
    SELECT data FROM pgboss.job WHERE name = ${RUN_DEAD_LETTER_QUEUE} AND id = ${queueJobId}::uuid AND state < 'completed' FOR UPDATE`;
  if (!job) return { retried: false, reason: "not_found" };
  const runId = job.data?.runId;
  if (typeof runId !== "string") return { retried: false, reason: "run_missing" };
  const run = await tx.jobRun.findUnique({ where: { id: runId }, select: { status: true } });
  if (!run) return { retried: false, reason: "run_missing" };
  const requeued = await tx.$executeRaw`
    UPDATE job_runs SET status = 'queued', finished_at = NULL, error = NULL, cancel_requested_at = NULL
     WHERE id = ${runId}::uuid AND status IN ('failed', 'timed_out')`;
  if (requeued !== 1) return { retried: false, reason: "run_not_finished" };
  await resendRunJob(tx, boss, job.data, { startAfterSec: 0, retryLimit: 0 });
  await tx.$executeRaw`DELETE FROM pgboss.job WHERE name = ${RUN_DEAD_LETTER_QUEUE} AND id = ${queueJobId}::uuid`;
  return { retried: true, runId };
}
