// Polling for what a test waits on: a server, a worker or PostgreSQL doing something in its own time.
import type { Db, Prisma, RunStatus } from "@opsconductor/db";

/** Polls `check` until it answers something truthy and answers that, failing after `timeoutMs` with what was awaited. */
export async function until<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Re-reads a run row until `done` holds for it and answers the row, failing with the run's last status after `timeoutMs`. */
export async function waitForRun(db: Db, runId: string, done: (run: Prisma.JobRunGetPayload<object>) => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await db.jobRun.findUniqueOrThrow({ where: { id: runId } });
    if (done(run)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} is still ${run.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The statuses a run ends in. */
export const FINISHED_RUN_STATUSES: readonly RunStatus[] = Object.freeze(["succeeded", "failed", "canceled", "timed_out"]);
