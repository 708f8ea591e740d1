// A worker process: pg-boss for queued work, plus a heartbeat row so the web app can tell which
// workers are alive.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { createPrismaClient, recordWorkerHeartbeat, removeWorkerHeartbeat, type PrismaClient } from "@opsconductor/db";
import { PgBoss } from "pg-boss";
import type { Logger } from "pino";

/** How often a worker refreshes its heartbeat row. */
export const HEARTBEAT_INTERVAL_MS = 10_000;

export interface WorkerOptions {
  databaseUrl: string;
  concurrency: number;
  logger: Logger;
  id?: string | undefined;
  version?: string;
}

export interface RunningWorker {
  id: string;
  boss: PgBoss;
  prisma: PrismaClient;
  /** Stops claiming work, waits for pg-boss to wind down and removes the heartbeat row. */
  stop(): Promise<void>;
}

/** Starts pg-boss and the heartbeat; resolves once the worker is ready for work. */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const id = options.id ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const log = options.logger.child({ workerId: id });
  const prisma = createPrismaClient(options.databaseUrl, { maxConnections: 4 });
  const boss = new PgBoss({ connectionString: options.databaseUrl, max: 4 });
  // pg-boss reports background failures (a lost connection, a failed maintenance query) as events.
  boss.on("error", (error) => log.error({ err: error }, "pg-boss error"));
  boss.on("warning", (warning) => log.warn({ warning }, "pg-boss warning"));
  await boss.start();

  const identity = { id, host: hostname(), pid: process.pid, version: options.version ?? "0.1.0", concurrency: options.concurrency };
  await recordWorkerHeartbeat(prisma, identity);
  const beat = setInterval(() => {
    recordWorkerHeartbeat(prisma, identity).catch((error: unknown) => log.warn({ err: error }, "heartbeat failed; retrying"));
  }, HEARTBEAT_INTERVAL_MS);
  beat.unref();
  log.info({ concurrency: options.concurrency, host: identity.host, pid: identity.pid }, "worker ready");

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(beat);
      log.info("worker stopping");
      await boss.stop({ graceful: true, timeout: 30_000 });
      await removeWorkerHeartbeat(prisma, id).catch((error: unknown) => log.warn({ err: error }, "could not remove heartbeat row"));
      await prisma.$disconnect();
      log.info("worker stopped");
    })();
    return stopping;
  };
  return { id, boss, prisma, stop };
}
