// A process for bench/scheduler.ts that runs the product's schedule loop (startScheduler, as
// apps/worker/src/worker.ts starts it: its own Prisma pool and pg-boss instance) and nothing else,
// so the fire lag measured is the scheduler's, not that of 10,000 runs a minute being executed on
// the same two cores. Bench only. Env: DATABASE_URL, LOG_LEVEL.
import { createRequire } from "node:module";
import type * as PgBossModule from "pg-boss";
import type * as Pino from "pino";
import { createPrismaClient } from "@opsconductor/db";
import { startScheduler } from "../apps/worker/src/scheduler.ts";

// pino and pg-boss are the worker's dependencies, not the workspace root's.
const require = createRequire(new URL("../apps/worker/package.json", import.meta.url));
const { pino } = require("pino") as typeof Pino;
const { PgBoss } = require("pg-boss") as typeof PgBossModule;
const databaseUrl = process.env.DATABASE_URL!;
const logger = pino({ level: process.env.LOG_LEVEL ?? "warn", base: { service: "bench-scheduler" } });
const prisma = createPrismaClient(databaseUrl, { maxConnections: 4 });
const boss = new PgBoss({ connectionString: databaseUrl, max: 4, supervise: false, schedule: false });
boss.on("error", (error) => logger.error({ err: error }, "pg-boss error"));
await boss.start();
const scheduler = await startScheduler({ prisma, boss, databaseUrl, logger });
process.stdout.write("scheduler ready\n");
process.on("SIGTERM", () => {
  void (async () => {
    await scheduler.stop();
    const { runsCreated, duplicateFires, lastError } = scheduler.status();
    process.stdout.write(`${JSON.stringify({ runsCreated, duplicateFires, lastError })}\n`);
    await boss.stop({ graceful: false });
    await prisma.$disconnect();
    process.exit(0);
  })();
});
