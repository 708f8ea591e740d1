// Prometheus metrics of one worker, served on its own port at /metrics.
import { createServer, type Server } from "node:http";
import { runQueueDepth, type PrismaClient } from "@opsconductor/db";
import type { Logger } from "pino";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface WorkerMetrics {
  registry: Registry;
  runsFinished: Counter<"status">;
  stepDuration: Histogram<"type" | "status">;
  activeRuns: Gauge;
  close(): Promise<void>;
  /** Port the metrics server listens on, if any. */
  port: number | null;
}

/** Creates the metric set and, when `port` is given, serves it. */
export async function startMetrics(options: { prisma: PrismaClient; port: number | null; host?: string; logger: Logger }): Promise<WorkerMetrics> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "opsconductor_worker_" });
  const runsFinished = new Counter({ name: "opsconductor_runs_finished_total", help: "Runs this worker finished, by final status", labelNames: ["status"] as const, registers: [registry] });
  const stepDuration = new Histogram({
    name: "opsconductor_step_duration_seconds",
    help: "Duration of steps this worker executed",
    labelNames: ["type", "status"] as const,
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
    registers: [registry],
  });
  const activeRuns = new Gauge({ name: "opsconductor_worker_active_runs", help: "Runs executing on this worker now", registers: [registry] });
  new Gauge({
    name: "opsconductor_queue_depth",
    help: "Runs waiting in the queue (all workers)",
    registers: [registry],
    async collect() {
      this.set(await runQueueDepth(options.prisma));
    },
  });
  new Gauge({
    name: "opsconductor_scheduler_lag_seconds",
    help: "How late the scheduler's last tick fired its due schedules",
    registers: [registry],
    async collect() {
      const state = await options.prisma.schedulerState.findUnique({ where: { id: 1 }, select: { lastLagMs: true } });
      this.set((state?.lastLagMs ?? 0) / 1000);
    },
  });
  new Gauge({
    name: "opsconductor_runs",
    help: "Runs by status (all workers)",
    labelNames: ["status"] as const,
    registers: [registry],
    async collect() {
      const groups = await options.prisma.jobRun.groupBy({ by: ["status"], _count: { _all: true } });
      this.reset();
      for (const g of groups) this.set({ status: g.status }, g._count._all);
    },
  });

  let server: Server | undefined;
  let port: number | null = null;
  if (options.port !== null) {
    server = createServer((req, res) => {
      if (req.url !== "/metrics") {
        res.writeHead(404).end("see /metrics\n");
        return;
      }
      registry.metrics().then(
        (text) => res.writeHead(200, { "Content-Type": registry.contentType }).end(text),
        (error: unknown) => {
          options.logger.warn({ err: error }, "collecting metrics failed");
          res.writeHead(500).end("metrics unavailable\n");
        },
      );
    });
    port = await new Promise<number | null>((resolve) => {
      server!.once("error", (error) => {
        // Another worker on this host may hold the port: run without metrics rather than not at all.
        options.logger.warn({ err: error, port: options.port }, "metrics port unavailable; serving no metrics");
        server = undefined;
        resolve(null);
      });
      server!.listen(options.port!, options.host ?? "0.0.0.0", () => {
        const address = server!.address();
        resolve(typeof address === "object" && address ? address.port : null);
      });
    });
  }
  return {
    registry,
    runsFinished,
    stepDuration,
    activeRuns,
    port,
    close: () => new Promise<void>((done) => (server ? server.close(() => done()) : done())),
  };
}
