// The worker's configuration, parsed once at boot; a bad value fails with a message naming the variable.
import { databaseUrlSchema, masterKeysSchema, parseEnv } from "@opsconductor/db";
import { z } from "zod";

const schema = z.object({
  DATABASE_URL: databaseUrlSchema,
  // Runs are I/O-bound (waiting on WinRM), so a few per core is a sensible default for a small machine.
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  WORKER_ID: z.string().min(1).max(200).optional(),
  OPSCONDUCTOR_MASTER_KEY: masterKeysSchema("OPSCONDUCTOR_MASTER_KEY is not set; the worker needs the same master key as the web app to decrypt credentials"),
  /** Port of the Prometheus /metrics endpoint; 0 turns it off. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(9464),
  /** How long SIGTERM waits for running runs before failing them. */
  WORKER_SHUTDOWN_GRACE_SEC: z.coerce.number().int().min(0).max(3600).default(30),
  /** Cap of one run's stored stdout + stderr in bytes; past it a marker line says the rest was not stored. */
  RUN_OUTPUT_MAX_BYTES: z.coerce.number().int().min(1024).max(Number.MAX_SAFE_INTEGER).default(100 * 1024 * 1024),
  /** How often the worker refreshes its heartbeat row (and looks for lost workers). */
  WORKER_HEARTBEAT_SEC: z.coerce.number().int().min(1).max(600).default(10),
  /** A worker unseen this long has lost its runs; the same on every worker, at least 3 heartbeats. */
  WORKER_LEASE_SEC: z.coerce.number().int().min(3).max(3600).default(30),
  /** Days of per-minute metrics history (metric_rollups) kept in PostgreSQL; older rows are pruned. */
  METRICS_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(14),
  /** Days a finished run is kept unless its job says otherwise (0: no age limit). */
  RUN_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(90),
  /** Finished runs kept per job unless its job says otherwise, newest first (0: no count limit). */
  RUN_RETENTION_RUNS: z.coerce.number().int().min(0).max(100_000_000).default(0),
  /** Days a finished run keeps its output lines unless its job says otherwise (0: as long as the run). */
  RUN_OUTPUT_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(0),
  /** How often a worker runs a prune pass (one worker at a time does). */
  RETENTION_INTERVAL_SEC: z.coerce.number().int().min(10).max(7 * 86_400).default(3600),
  /** Days pg-boss keeps a run's finished queue job (the run row keeps the history). */
  QUEUE_JOB_RETENTION_DAYS: z.coerce.number().min(0.01).max(3650).default(7),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
}).refine((env) => env.WORKER_LEASE_SEC >= 3 * env.WORKER_HEARTBEAT_SEC, {
  path: ["WORKER_LEASE_SEC"],
  message: "WORKER_LEASE_SEC must be at least three times WORKER_HEARTBEAT_SEC, so one slow heartbeat does not lose a worker its runs",
});

export type WorkerEnv = z.infer<typeof schema>;

/** Parses worker configuration from `source`, throwing one error that names every bad variable. */
export function parseWorkerEnv(source: Record<string, string | undefined>): WorkerEnv {
  return parseEnv(schema, source);
}
