// A worker for bench/fan-out.ts: the product's worker (claim, recorder, notices) with an executor in
// place of the WinRM ones that prints lines at a steady rate, so the web app's live streams have a
// busy run to fan out. A step's command `chatty <lines per second> <seconds>` prints
// `tick <n> <epoch ms>` lines, the time being when the line was produced, so a client can tell its
// delivery lag. With BENCH_CHATTY_GO set, a step first waits until that file exists, so the bench
// can connect its clients before the lines start. Bench only: the product never registers it. Env as for apps/worker.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import type * as Pino from "pino";
import type { StepExecutor } from "@opsconductor/core";
import { parseWorkerEnv } from "../apps/worker/src/env.ts";
import { startWorker } from "../apps/worker/src/worker.ts";

// pino is the worker's dependency, not the workspace root's.
const { pino } = createRequire(new URL("../apps/worker/package.json", import.meta.url))("pino") as typeof Pino;
const config = parseWorkerEnv(process.env);
const go = process.env.BENCH_CHATTY_GO;

const chatty: StepExecutor = async ({ step, output, signal }) => {
  const match = /^chatty (\d+) (\d+)$/.exec(String(step.command ?? ""));
  if (!match) return { exitCode: 1, error: `expected "chatty <lines per second> <seconds>", got ${JSON.stringify(step.command)}` };
  const [rate, seconds] = [Number(match[1]), Number(match[2])];
  const total = rate * seconds;
  while (go && !existsSync(go) && !signal.aborted) await new Promise((r) => setTimeout(r, 20));
  const began = Date.now();
  // Each line is due at its own instant; a late timer prints the lines it owes at once, so the count is exact.
  for (let n = 1; n <= total && !signal.aborted; ) {
    const now = Date.now();
    for (; n <= total && began + ((n - 1) * 1000) / rate <= now; n++) output("stdout", `tick ${n} ${Date.now()}\n`);
    if (n <= total) await new Promise((r) => setTimeout(r, Math.max(1, began + ((n - 1) * 1000) / rate - Date.now())));
  }
  return { exitCode: signal.aborted ? 1 : 0 };
};

const worker = await startWorker({
  databaseUrl: config.DATABASE_URL,
  masterKeys: config.OPSCONDUCTOR_MASTER_KEY,
  concurrency: config.WORKER_CONCURRENCY,
  logger: pino({ level: config.LOG_LEVEL, base: { service: "worker" } }),
  metricsPort: null,
  executors: { "winrm.exec": chatty, "winrm.copy": chatty },
  scheduler: false,
});
process.on("SIGTERM", () => void worker.stop().then(() => process.exit(0)));
