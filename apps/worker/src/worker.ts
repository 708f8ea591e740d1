// A worker process: executes queued runs from pg-boss, hears cancel requests over NOTIFY, fails the
// runs of workers that died, and keeps a heartbeat row so everyone can tell which workers are alive.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { createKeyring, createWinRMExecutors, type StepExecutor } from "@opsconductor/core";
import {
  createPrismaClient,
  DEFAULT_METRICS_RETENTION_DAYS,
  ensureRunQueues,
  failRunsWithEndedQueueJobs,
  notifyRun,
  openLibraryFile,
  recordWorkerHeartbeat,
  removeWorkerHeartbeat,
  RUN_CONTROL_CHANNEL,
  RUN_QUEUE,
  reportRetentionSettings,
  sealRunParameters,
  type MasterKeys,
  type PrismaClient,
  type RetentionPolicy,
  type RunControl,
  type RunJobData,
} from "@opsconductor/db";
import { WinRMClient } from "@opsconductor/winrm";
import { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import { executeRun, LeaseExpired, LeaseLost, RetryScheduled, WorkerShutdown } from "./run-executor.ts";
import { listen } from "./listen.ts";
import { startMetrics, type WorkerMetrics } from "./metrics.ts";
import { boundQueueJobs, startRetention } from "./retention.ts";
import { startMetricsHistory, type MetricsHistory } from "./metrics-history.ts";
import { failRunsOfPreviousIncarnation, LOST_AFTER_MS, reapLostRuns } from "./reaper.ts";
import { startScheduler, type Scheduler } from "./scheduler.ts";

/** How long after its queue job ended an unclaimed queued run is declared failed. */
const ENDED_QUEUE_JOB_GRACE_MS = 30_000;
/** How often a worker refreshes its heartbeat row (WORKER_HEARTBEAT_SEC). */
export const HEARTBEAT_INTERVAL_MS = 10_000;
const CANCEL_POLL_MS = 2_000;

export interface WorkerOptions {
  databaseUrl: string;
  masterKeys: MasterKeys;
  concurrency: number;
  logger: Logger;
  id?: string | undefined;
  version?: string;
  /** Port for /metrics; null serves none. */
  metricsPort?: number | null;
  shutdownGraceSec?: number;
  /** Step executors; the WinRM ones by default. */
  executors?: Readonly<Record<string, StepExecutor>>;
  /** Run the schedule loop in this worker too (default true; safe with many workers). */
  scheduler?: boolean;
  /** Cap of one run's stored stdout + stderr, in bytes (default 100 MiB). */
  maxRunOutputBytes?: number;
  /** How long after its queue job ended an unclaimed queued run is failed (default 30 s). */
  endedQueueJobGraceMs?: number;
  /** How often the heartbeat row is refreshed; the reaper looks for lost workers as often (default 10 s). */
  heartbeatIntervalMs?: number;
  /**
   * A worker whose heartbeat is older than this has lost its runs to the reaper (default 30 s; at
   * least 3 heartbeat intervals, and the same on every worker). A worker that could not heartbeat
   * for all but one interval of it stops its runs itself, before anyone may take them over.
   */
  leaseMs?: number;
  /** Days of metrics history to keep (default 14). */
  metricsRetentionDays?: number;
  /** How often the metrics history is written (default once a minute). */
  metricsHistoryIntervalMs?: number;
  /** Prune finished runs by policy (retention.ts) every `intervalMs`, and bound pg-boss's finished jobs; off when absent. */
  retention?: { policy: RetentionPolicy; intervalMs: number; queueJobDays: number; firstDelayMs?: number };
}

export interface RunningWorker {
  id: string;
  boss: PgBoss;
  prisma: PrismaClient;
  metrics: WorkerMetrics;
  scheduler: Scheduler | undefined;
  metricsHistory: MetricsHistory;
  /** Ids of the runs executing here now. */
  activeRuns(): string[];
  /** Stops claiming work, lets running runs finish within the grace period, fails the rest, cleans up. */
  stop(): Promise<void>;
}

/** Starts pg-boss, the run executor, cancel listening, the reaper and the heartbeat. */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const heartbeatMs = options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS;
  const leaseMs = options.leaseMs ?? LOST_AFTER_MS;
  if (!(heartbeatMs > 0 && leaseMs >= 3 * heartbeatMs)) throw new Error(`the worker lease (${leaseMs} ms) must be at least three heartbeat intervals (${heartbeatMs} ms)`);
  const giveUpMs = leaseMs - heartbeatMs;
  const id = options.id ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const log = options.logger.child({ workerId: id });
  const prisma = createPrismaClient(options.databaseUrl, { maxConnections: Math.max(4, options.concurrency + 2) });
  const keyring = createKeyring(options.masterKeys);
  // Files come from the library in PostgreSQL, never from this machine's disk.
  const executors = options.executors ?? createWinRMExecutors({ createClient: (connection) => new WinRMClient(connection), openFile: (ref, { sha256 }) => openLibraryFile(prisma, ref, { sha256 }) });
  // useListenNotify: claim a run the moment it is sent (the run queue NOTIFYs), the poll stays as a backstop.
  const boss = new PgBoss({ connectionString: options.databaseUrl, max: 4, useListenNotify: true });
  // pg-boss reports background failures (a lost connection, a failed maintenance query) as events.
  boss.on("error", (error) => log.error({ err: error }, "pg-boss error"));
  boss.on("warning", (warning) => log.warn({ warning }, "pg-boss warning"));
  await boss.start();
  await ensureRunQueues(boss);
  const metrics = await startMetrics({ prisma, port: options.metricsPort ?? null, logger: log });

  const orphaned = await failRunsOfPreviousIncarnation(prisma, id);
  if (orphaned.length > 0) log.warn({ runIds: orphaned }, "failed the runs an earlier process with this worker id left running");

  const identity = { id, host: hostname(), pid: process.pid, version: options.version ?? "0.1.0", concurrency: options.concurrency };
  await recordWorkerHeartbeat(prisma, identity);
  // When the last heartbeat that reached the database was sent: the database stamped it no earlier.
  let heartbeatSentAt = Date.now();
  let beating = false;
  const beat = setInterval(() => {
    if (beating) return; // one stuck in a partition must not pile up others on the pool
    beating = true;
    const sentAt = Date.now();
    recordWorkerHeartbeat(prisma, identity)
      .then(() => (heartbeatSentAt = Math.max(heartbeatSentAt, sentAt)))
      .catch((error: unknown) => log.warn({ err: error }, "heartbeat failed; retrying"))
      .finally(() => (beating = false));
  }, heartbeatMs);
  beat.unref();

  const active = new Map<string, AbortController>();
  // Independent of the heartbeat query, which may hang rather than fail in a partition.
  const leaseWatch = setInterval(() => {
    const silentMs = Date.now() - heartbeatSentAt;
    if (silentMs <= giveUpMs || active.size === 0) return;
    const running = [...active].filter(([, controller]) => !controller.signal.aborted);
    if (running.length === 0) return;
    log.error({ silentMs, leaseMs, runIds: running.map(([runId]) => runId) }, "no heartbeat reached the database within the lease; stopping this worker's runs before another worker may take them over");
    for (const [, controller] of running) controller.abort(new LeaseExpired(silentMs));
  }, Math.min(1_000, Math.max(50, heartbeatMs / 4)));
  leaseWatch.unref();
  const cancel = (runId: string) => {
    const controller = active.get(runId);
    if (controller && !controller.signal.aborted) {
      log.info({ runId }, "cancel requested; stopping the run");
      controller.abort(new Error("The run was canceled."));
    }
  };
  const control = listen({
    databaseUrl: options.databaseUrl,
    channels: [RUN_CONTROL_CHANNEL],
    logger: log,
    onNotification: (_channel, payload) => {
      const message = JSON.parse(payload) as RunControl;
      if (message.action === "cancel") cancel(message.runId);
    },
  });
  // NOTIFY is lost while the listen connection is down; a cheap poll catches those cancels too.
  const cancelPoll = setInterval(() => {
    if (active.size === 0) return;
    prisma.jobRun
      .findMany({ where: { id: { in: [...active.keys()] }, cancelRequestedAt: { not: null } }, select: { id: true } })
      .then((rows) => rows.forEach((r) => cancel(r.id)))
      .catch((error: unknown) => log.warn({ err: error }, "cancel poll failed"));
  }, CANCEL_POLL_MS);
  cancelPoll.unref();

  const reaper = setInterval(() => {
    reapLostRuns(prisma, { leaseMs, boss })
      .then((ids) => ids.length && log.warn({ runIds: ids }, "failed runs of a lost worker"))
      .catch((error: unknown) => log.warn({ err: error }, "reaping lost runs failed"));
    failRunsWithEndedQueueJobs(prisma, (options.endedQueueJobGraceMs ?? ENDED_QUEUE_JOB_GRACE_MS) / 1000)
      .then(async (ids) => {
        if (ids.length === 0) return;
        log.warn({ runIds: ids }, "failed queued runs whose queue job ended before any worker claimed them");
        for (const runId of ids) await notifyRun(prisma, { runId, kind: "run" });
      })
      .catch((error: unknown) => log.warn({ err: error }, "checking queued runs for ended queue jobs failed"));
  }, heartbeatMs);
  reaper.unref();

  const execute = async (data: RunJobData) => {
    const controller = new AbortController();
    active.set(data.runId, controller);
    metrics.activeRuns.set(active.size);
    try {
      const outcome = await executeRun(
        { prisma, boss, keyring, workerId: id, logger: log, executors, maxRunOutputBytes: options.maxRunOutputBytes, onStepFinished: (type, status, ms) => metrics.stepDuration.observe({ type, status }, ms / 1000) },
        data,
        controller.signal,
      );
      if (outcome.status !== "skipped") metrics.runsFinished.inc({ status: outcome.status });
    } catch (error) {
      // A scheduled retry fails this attempt's queue job on purpose: pg-boss redelivers it after the delay.
      if (error instanceof RetryScheduled) metrics.runsFinished.inc({ status: "retried" });
      // Failing a taken-over attempt's queue job touches nothing: pg-boss fences its settles by attempt too.
      if (error instanceof LeaseLost) metrics.runsFinished.inc({ status: "lease_lost" });
      throw error;
    } finally {
      active.delete(data.runId);
      metrics.activeRuns.set(active.size);
    }
  };
  // A slot that finished a run fetches the next one at once: pg-boss otherwise waits out the rest of
  // its one-second poll after each job (NOTIFY only wakes it for jobs sent meanwhile), which held a
  // backlog of quick runs to one run per second per slot. An empty fetch ends it.
  const runWorkId: { id?: string } = {};
  runWorkId.id = await boss.work<RunJobData>(RUN_QUEUE, { localConcurrency: options.concurrency, pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 1 }, async ([job]) => {
    try {
      if (job) await execute(job.data);
    } finally {
      fetchAgainAfterJob(boss, runWorkId.id);
    }
  });
  const scheduler =
    options.scheduler === false
      ? undefined
      : await startScheduler({
          prisma,
          boss,
          databaseUrl: options.databaseUrl,
          logger: log,
          sealSecrets: (runId, secrets) => sealRunParameters(keyring, runId, secrets),
        });
  const metricsHistory = startMetricsHistory({ prisma, logger: log, retentionDays: options.metricsRetentionDays ?? DEFAULT_METRICS_RETENTION_DAYS, intervalMs: options.metricsHistoryIntervalMs });
  if (options.retention) {
    await boundQueueJobs(boss, options.retention.queueJobDays);
    // The system page and the job pages show these: the web app cannot read this process's environment.
    await reportRetentionSettings(prisma, id, { ...options.retention.policy, intervalSec: Math.round(options.retention.intervalMs / 1000), queueJobDays: options.retention.queueJobDays });
  }
  const retention = options.retention ? startRetention({ prisma, logger: log, holder: id, policy: options.retention.policy, intervalMs: options.retention.intervalMs, firstDelayMs: options.retention.firstDelayMs }) : undefined;
  log.info({ concurrency: options.concurrency, host: identity.host, pid: identity.pid, metricsPort: metrics.port, scheduler: Boolean(scheduler) }, "worker ready");

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      const graceSec = options.shutdownGraceSec ?? 30;
      log.info({ activeRuns: active.size, graceSec }, "worker stopping: no new runs are claimed");
      await scheduler?.stop();
      await boss.offWork(RUN_QUEUE, { wait: false });
      const deadline = Date.now() + graceSec * 1000;
      while (active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      if (active.size > 0) {
        log.warn({ runIds: [...active.keys()] }, "grace period over: failing the runs still executing");
        for (const controller of active.values()) controller.abort(new WorkerShutdown(graceSec));
        const hard = Date.now() + 15_000;
        while (active.size > 0 && Date.now() < hard) await new Promise((r) => setTimeout(r, 100));
      }
      clearInterval(beat);
      clearInterval(leaseWatch);
      clearInterval(cancelPoll);
      clearInterval(reaper);
      await metricsHistory.stop();
      await retention?.stop();
      await control.close();
      await boss.stop({ graceful: true, timeout: 10_000 });
      await metrics.close();
      await removeWorkerHeartbeat(prisma, id).catch((error: unknown) => log.warn({ err: error }, "could not remove heartbeat row"));
      await prisma.$disconnect();
      log.info("worker stopped");
    })();
    return stopping;
  };
  return { id, boss, prisma, metrics, metricsHistory, scheduler, activeRuns: () => [...active.keys()], stop };
}

/**
 * Wakes the busy slots of one `work()` registration so each fetches again as soon as its job is done
 * instead of waiting out its poll; idle slots keep waiting (no burst of empty fetches).
 */
export function fetchAgainAfterJob(boss: PgBoss, workId: string | undefined) {
  if (!workId) return;
  for (const slot of boss.getWipData()) if (slot.workId === workId && slot.count > 0) boss.notifyWorker(slot.id);
}
