import type { Db } from "./client.ts";
import { translatePrismaError } from "./errors.ts";
import type { Prisma } from "./generated/client.ts";
import type { OutputStream, RunTrigger } from "./generated/enums.ts";

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
