// Writes the metrics history (metric_rollups) on a timer: the last few minutes' run counts are
// recomputed from the runs tables (so several workers agree), a queue-depth and scheduler-lag sample
// is added to the current minute, and rows older than the retention are pruned.
import { pruneMetricRollups, recordMetricSample, runQueueDepth, writeMetricRollups, type PrismaClient } from "@opsconductor/db";
import type { Logger } from "pino";

/** How often the history is written by default: once a minute, the width of one row. */
export const METRICS_HISTORY_INTERVAL_MS = 60_000;
// Runs finish after the minute they started in was last written; recomputing a few minutes back
// catches those, and a worker that starts fills the last hour it may have missed.
const LOOKBACK_MS = 5 * 60_000;
const FIRST_LOOKBACK_MS = 60 * 60_000;

export interface MetricsHistoryOptions {
  prisma: PrismaClient;
  logger: Logger;
  /** Days of rollups to keep (METRICS_RETENTION_DAYS). */
  retentionDays: number;
  intervalMs?: number;
}

export interface MetricsHistory {
  /** Writes once now (also what the timer does); resolves when written. */
  write(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts writing the metrics history; the first write happens at once. */
export function startMetricsHistory(options: MetricsHistoryOptions): MetricsHistory {
  const { prisma, logger } = options;
  let lookbackMs = FIRST_LOOKBACK_MS;
  let running: Promise<void> | undefined;
  const writeOnce = async () => {
    const [[clock], queueDepth, scheduler] = await Promise.all([
      prisma.$queryRaw<{ now: Date }[]>`SELECT now() AS now`,
      runQueueDepth(prisma),
      prisma.schedulerState.findUnique({ where: { id: 1 }, select: { lastLagMs: true } }),
    ]);
    const now = clock!.now;
    await writeMetricRollups(prisma, { from: new Date(now.getTime() - lookbackMs), to: now });
    await recordMetricSample(prisma, { queueDepth, schedulerLagMs: scheduler?.lastLagMs ?? null, at: now });
    const pruned = await pruneMetricRollups(prisma, options.retentionDays);
    if (pruned > 0) logger.debug({ pruned, retentionDays: options.retentionDays }, "pruned old metric rollups");
    lookbackMs = LOOKBACK_MS;
  };
  const write = () => {
    running ??= writeOnce()
      .catch((error: unknown) => logger.warn({ err: error }, "writing the metrics history failed; trying again at the next interval"))
      .finally(() => (running = undefined));
    return running;
  };
  void write();
  const timer = setInterval(() => void write(), options.intervalMs ?? METRICS_HISTORY_INTERVAL_MS);
  timer.unref();
  return {
    write,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
