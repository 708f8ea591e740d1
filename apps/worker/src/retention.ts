// Retention: on a timer, one worker at a time (a lease row) deletes finished runs their job's policy
// lets go, and drops old output of runs that stay, in small batches between which other work runs.
// One audit entry per pass that removed anything; the last pass is recorded for the system page.
import { addCounts, deleteRuns, expiredOutputRunIds, expiredRunIds, NO_PRUNE, pruneRunOutput, recordPrunePass, RUN_DEAD_LETTER_QUEUE, RUN_QUEUE, takePruneLease, type PrismaClient, type PruneCounts, type RetentionPolicy } from "@opsconductor/db";
import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";

export interface RetentionOptions {
  prisma: PrismaClient;
  logger: Logger;
  /** Identifies this worker as the lease holder. */
  holder: string;
  policy: RetentionPolicy;
  /** Runs per batch (their output goes `outputRowsPerStatement` rows at a time). */
  batchRuns?: number;
  outputRowsPerStatement?: number;
  /** How long a pass may hold the lease before another worker may take over. */
  leaseMs?: number;
}

export const DEFAULT_BATCH_RUNS = 200;
export const DEFAULT_OUTPUT_ROWS_PER_STATEMENT = 5_000;

/** What a pass did; `skipped` when another worker held the lease. */
export interface PrunePassResult extends PruneCounts {
  skipped: boolean;
}

/** Runs one prune pass now: expired runs first, then output past its days, each in batches. */
export async function prunePass(options: RetentionOptions): Promise<PrunePassResult> {
  const { prisma, policy, holder } = options;
  const batch = options.batchRuns ?? DEFAULT_BATCH_RUNS;
  const rowLimit = options.outputRowsPerStatement ?? DEFAULT_OUTPUT_ROWS_PER_STATEMENT;
  const leaseMs = options.leaseMs ?? 10 * 60_000;
  if (!(await takePruneLease(prisma, holder, leaseMs))) return { ...NO_PRUNE, skipped: true };
  const startedAt = new Date();
  let counts: PruneCounts = NO_PRUNE;
  try {
    for (;;) {
      const ids = await expiredRunIds(prisma, policy, batch);
      if (ids.length === 0) break;
      const done = await deleteRuns(prisma, ids, rowLimit);
      counts = addCounts(counts, done);
      // Renew the lease as we go, so a long pass is not taken over while it works.
      await takePruneLease(prisma, holder, leaseMs);
      if (ids.length < batch || done.runs === 0) break;
    }
    for (;;) {
      const ids = await expiredOutputRunIds(prisma, policy, batch);
      if (ids.length === 0) break;
      const done = await pruneRunOutput(prisma, ids, rowLimit);
      counts = addCounts(counts, done);
      await takePruneLease(prisma, holder, leaseMs);
      if (ids.length < batch || done.outputRuns === 0) break;
    }
  } catch (error) {
    await recordPrunePass(prisma, holder, { startedAt, counts, policy, error: (error as Error).message });
    throw error;
  }
  if (counts.runs > 0 || counts.outputRuns > 0) {
    await prisma.auditLog.create({
      data: {
        actorName: "retention",
        action: "retention.prune",
        entityType: "retention",
        summary: `retention deleted ${counts.runs} finished run(s) with ${counts.steps} step(s), dropped the output of ${counts.outputRuns} run(s) (${counts.outputRows} output rows, ${formatBytes(counts.bytes)} in all)`,
        details: { ...counts, policy: { ...policy }, startedAt: startedAt.toISOString() },
      },
    });
  }
  await recordPrunePass(prisma, holder, { startedAt, counts, policy });
  return { ...counts, skipped: false };
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/**
 * Bounds pg-boss's own table: it deletes a completed or failed job `deleteAfterSeconds` after it
 * ended (pg-boss 12 keeps no separate archive). The run rows keep the history; a queue job only
 * matters while its run is live.
 */
export async function boundQueueJobs(boss: PgBoss, days: number): Promise<void> {
  for (const queue of [RUN_QUEUE, RUN_DEAD_LETTER_QUEUE]) await boss.updateQueue(queue, { deleteAfterSeconds: Math.max(1, Math.round(days * 86_400)) });
}

export interface RetentionTimer {
  /** Resolves when a pass in progress has ended. */
  stop(): Promise<void>;
}

/** Runs a pass shortly after start and then every `intervalMs`; failures are logged and retried next time. */
export function startRetention(options: RetentionOptions & { intervalMs: number; firstDelayMs?: number }): RetentionTimer {
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    if (stopped || running) return;
    running = prunePass(options)
      .then((result) => {
        if (!result.skipped && (result.runs > 0 || result.outputRuns > 0)) options.logger.info({ ...result }, "retention pass");
      })
      .catch((error: unknown) => options.logger.warn({ err: error }, "retention pass failed; retrying at the next interval"))
      .finally(() => (running = undefined));
  };
  const first = setTimeout(tick, options.firstDelayMs ?? 60_000);
  const timer = setInterval(tick, options.intervalMs);
  first.unref();
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
