// A worker for bench/pipeline.ts: the product's worker with a no-op executor in place of the WinRM
// ones, so a run's cost is the pipeline's (queue, claim, steps, recorder, finish), not remote work.
// Bench only: the product never registers it. Env as for apps/worker (DATABASE_URL, WORKER_CONCURRENCY ...).
import { createRequire } from "node:module";
import type * as Pino from "pino";
import type { StepExecutor } from "@opsconductor/core";
import { parseWorkerEnv } from "../apps/worker/src/env.ts";
import { startWorker } from "../apps/worker/src/worker.ts";

// pino is the worker's dependency, not the workspace root's.
const { pino } = createRequire(new URL("../apps/worker/package.json", import.meta.url))("pino") as typeof Pino;
const config = parseWorkerEnv(process.env);
const noop: StepExecutor = async () => ({ exitCode: 0 });
const worker = await startWorker({
  databaseUrl: config.DATABASE_URL,
  masterKeys: config.OPSCONDUCTOR_MASTER_KEY,
  concurrency: config.WORKER_CONCURRENCY,
  logger: pino({ level: config.LOG_LEVEL, base: { service: "worker" } }),
  metricsPort: null,
  executors: { "winrm.exec": noop, "winrm.copy": noop },
  scheduler: process.env.BENCH_SCHEDULER === "1",
});
process.on("SIGTERM", () => void worker.stop().then(() => process.exit(0)));
