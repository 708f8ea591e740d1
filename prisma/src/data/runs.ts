import type { Db, PrismaClient } from "../database/client.ts";
import { translatePrismaError } from "../database/errors.ts";
import type { Prisma } from "../generated/client.ts";
import type { OutputStream, RunTrigger, StepStatus } from "../generated/enums.ts";
import { RUN_EVENTS_CHANNEL } from "./events.ts";

export interface NewRun {
  /** Lets the caller know the id before the insert (to bind sealed data to it); generated if absent. */
  id?: string;
  jobId: string;
  jobVersionId: string;
  /** Resolved parameters with secret values already removed. */
  parameters: Prisma.InputJsonValue;
  trigger?: RunTrigger;
  requestedById?: string | null;
  scheduleId?: string | null;
  idempotencyKey?: string | null;
}

/**
 * Inserts a queued run. With an idempotency key already used for the same job, returns the existing
 * run instead (`created: false`), so a retried request never queues twice.
 */
export async function createRun(db: Db, input: NewRun): Promise<{ run: Prisma.JobRunGetPayload<object>; created: boolean }> {
  if (input.idempotencyKey) {
    const existing = await db.jobRun.findUnique({ where: { jobId_idempotencyKey: { jobId: input.jobId, idempotencyKey: input.idempotencyKey } } });
    if (existing) return { run: existing, created: false };
  }
  try {
    const run = await db.jobRun.create({
      data: {
        ...(input.id ? { id: input.id } : {}),
        jobId: input.jobId,
        jobVersionId: input.jobVersionId,
        parameters: input.parameters,
        trigger: input.trigger ?? "manual",
        requestedById: input.requestedById ?? null,
        scheduleId: input.scheduleId ?? null,
        idempotencyKey: input.idempotencyKey ?? null,
      },
    });
    return { run, created: true };
  } catch (error) {
    translatePrismaError(error, "run");
  }
}

export interface OutputChunk {
  stepId?: string | null;
  stream: OutputStream;
  sequence: number;
  text: string;
  at?: Date;
}

/** Appends a batch of output chunks of one run in a single statement. */
export async function appendRunOutput(db: Db, runId: string, chunks: OutputChunk[]): Promise<number> {
  if (chunks.length === 0) return 0;
  const result = await db.runOutputChunk.createMany({
    data: chunks.map((c) => ({ runId, stepId: c.stepId ?? null, stream: c.stream, sequence: c.sequence, text: c.text, at: c.at ?? new Date() })),
  });
  return result.count;
}

/** Who may write to a run after claiming it: the worker and the attempt job_runs names. */
export interface RunLease {
  runId: string;
  workerId: string;
  attempt: number;
}

/** Claims a queued run for `workerId` (the next attempt); null when it is no longer queued. */
export async function claimRun(db: Db, runId: string, workerId: string): Promise<RunLease | null> {
  const [row] = await db.$queryRaw<{ attempt: number }[]>`
    UPDATE job_runs SET status = 'running', started_at = now(), worker_id = ${workerId}, attempt = attempt + 1
     WHERE id = ${runId}::uuid AND status = 'queued'
     RETURNING attempt`;
  return row ? { runId, workerId, attempt: row.attempt } : null;
}

/**
 * Updates the run only while `lease` holds it (running, under this worker and attempt); false when
 * it matched nothing, i.e. the worker lost the run and must stop writing to it.
 */
export async function updateLeasedRun(db: Db, lease: RunLease, data: Prisma.JobRunUpdateManyMutationInput): Promise<boolean> {
  const { count } = await db.jobRun.updateMany({ where: { id: lease.runId, workerId: lease.workerId, attempt: lease.attempt, status: "running" }, data });
  return count === 1;
}

/**
 * Runs `write` in a transaction that holds the run's row FOR SHARE while `lease` holds the run, so no
 * claim or reap can commit in between; `{ held: false }` (and nothing written) when it does not.
 */
export async function withRunLease<T>(prisma: PrismaClient, lease: RunLease, write: (tx: Db) => Promise<T>): Promise<{ held: true; value: T } | { held: false }> {
  return prisma.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<unknown[]>`
      SELECT 1 FROM job_runs WHERE id = ${lease.runId}::uuid AND worker_id = ${lease.workerId} AND attempt = ${lease.attempt} AND status = 'running' FOR SHARE`;
    if (rows.length === 0) return { held: false as const };
    return { held: true as const, value: await write(tx) };
  });
}

/** A step's new state as the worker records it; fields left out keep their value. */
export interface LeasedStepUpdate {
  status: StepStatus;
  startedAt?: Date;
  finishedAt?: Date;
  exitCode?: number | null;
  error?: string | null;
}

/**
 * Updates one step of the run while `lease` holds it and tells listeners (a "step" notice on
 * RUN_EVENTS_CHANNEL), in one statement; false when the lease no longer holds (nothing written).
 */
export async function updateLeasedStep(db: Db, lease: RunLease, stepId: string, update: LeasedStepUpdate): Promise<boolean> {
  const has = (key: keyof LeasedStepUpdate) => update[key] !== undefined;
  const [row] = await db.$queryRaw<{ n: number }[]>`
    WITH updated AS (
      UPDATE job_run_steps SET
             status = ${update.status}::"StepStatus",
             started_at = CASE WHEN ${has("startedAt")} THEN ${update.startedAt ?? null}::timestamptz ELSE started_at END,
             finished_at = CASE WHEN ${has("finishedAt")} THEN ${update.finishedAt ?? null}::timestamptz ELSE finished_at END,
             exit_code = CASE WHEN ${has("exitCode")} THEN ${update.exitCode ?? null}::int ELSE exit_code END,
             error = CASE WHEN ${has("error")} THEN ${update.error ?? null}::text ELSE error END
       WHERE id = ${stepId}::uuid AND run_id = ${lease.runId}::uuid
         AND EXISTS (SELECT 1 FROM job_runs r WHERE r.id = ${lease.runId}::uuid AND r.worker_id = ${lease.workerId} AND r.attempt = ${lease.attempt} AND r.status = 'running' FOR SHARE)
      RETURNING 1),
    notified AS (SELECT pg_notify(${RUN_EVENTS_CHANNEL}, ${JSON.stringify({ runId: lease.runId, kind: "step" })}) FROM updated LIMIT 1)
    SELECT (SELECT count(*) FROM updated)::int AS n, (SELECT count(*) FROM notified)::int AS notices`;
  return (row?.n ?? 0) > 0;
}

/**
 * appendRunOutput, fenced by `lease` in the same statement, which also tells listeners (an "output"
 * notice with the last sequence); false when the lease no longer holds (nothing is written or sent).
 */
export async function appendLeasedRunOutput(db: Db, lease: RunLease, chunks: OutputChunk[]): Promise<boolean> {
  if (chunks.length === 0) return true;
  const notice = JSON.stringify({ runId: lease.runId, kind: "output", sequence: chunks[chunks.length - 1]!.sequence });
  const [row] = await db.$queryRaw<{ n: number }[]>`
    WITH inserted AS (
      INSERT INTO run_output_chunks (run_id, step_id, stream, sequence, text, at)
      SELECT ${lease.runId}::uuid, c.step_id, c.stream::"OutputStream", c.sequence, c.text, c.at
        FROM unnest(${chunks.map((c) => c.stepId ?? null)}::uuid[], ${chunks.map((c) => c.stream)}::text[], ${chunks.map((c) => c.sequence)}::int[],
                    ${chunks.map((c) => c.text)}::text[], ${chunks.map((c) => (c.at ?? new Date()).toISOString())}::timestamptz[]) AS c(step_id, stream, sequence, text, at)
       WHERE EXISTS (SELECT 1 FROM job_runs r WHERE r.id = ${lease.runId}::uuid AND r.worker_id = ${lease.workerId} AND r.attempt = ${lease.attempt} AND r.status = 'running' FOR SHARE)
      RETURNING 1),
    notified AS (SELECT pg_notify(${RUN_EVENTS_CHANNEL}, ${notice}) FROM inserted LIMIT 1)
    SELECT (SELECT count(*) FROM inserted)::int AS n, (SELECT count(*) FROM notified)::int AS notices`;
  return (row?.n ?? 0) > 0;
}
