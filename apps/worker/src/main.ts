// Entry point: `pnpm --filter @opsconductor/worker start` runs one worker against DATABASE_URL.
import { pino } from "pino";
import { parseWorkerEnv } from "./env.ts";
import { startWorker } from "./worker.ts";

let config;
try {
  config = parseWorkerEnv(process.env);
} catch (error) {
  console.error(`worker: ${(error as Error).message}`);
  process.exit(1);
}
const logger = pino({ level: config.LOG_LEVEL, base: { service: "worker" } });
const worker = await startWorker({
  databaseUrl: config.DATABASE_URL,
  masterKeys: config.OPSCONDUCTOR_MASTER_KEY,
  concurrency: config.WORKER_CONCURRENCY,
  logger,
  id: config.WORKER_ID,
  metricsPort: config.METRICS_PORT === 0 ? null : config.METRICS_PORT,
  shutdownGraceSec: config.WORKER_SHUTDOWN_GRACE_SEC,
  maxRunOutputBytes: config.RUN_OUTPUT_MAX_BYTES,
  heartbeatIntervalMs: config.WORKER_HEARTBEAT_SEC * 1000,
  leaseMs: config.WORKER_LEASE_SEC * 1000,
  metricsRetentionDays: config.METRICS_RETENTION_DAYS,
  retention: {
    policy: { runDays: config.RUN_RETENTION_DAYS, runCount: config.RUN_RETENTION_RUNS, outputDays: config.RUN_OUTPUT_RETENTION_DAYS },
    intervalMs: config.RETENTION_INTERVAL_SEC * 1000,
    queueJobDays: config.QUEUE_JOB_RETENTION_DAYS,
  },
});

let signals = 0;
// "disconnect": the supervisor of `pnpm start` is gone, so nobody would ever stop this worker.
for (const signal of ["SIGINT", "SIGTERM", "disconnect"] as const) {
  process.on(signal, () => {
    signals++;
    if (signals > 1) {
      logger.warn("second signal: exiting now");
      process.exit(1);
    }
    worker.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "worker did not stop cleanly");
        process.exit(1);
      },
    );
  });
}
