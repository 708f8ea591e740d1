// The web process's pg-boss instance. The web app only sends jobs (runs are queued in the same
// transaction as their row); supervision, maintenance and cron belong to the worker.
import { ensureRunQueues } from "@opsconductor/db";
import { PgBoss } from "pg-boss";
import { env } from "../env.server.ts";
import { logger } from "../http/observability.server.ts";

// Kept on globalThis so Vite's module reloads in dev don't open a second pool.
const holder = globalThis as typeof globalThis & { __opsconductorBoss?: Promise<PgBoss> };

async function startBoss(): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: env().DATABASE_URL, max: 4, supervise: false, schedule: false, instanceName: "opsconductor-web" });
  boss.on("error", (error) => logger().error({ err: error }, "[queue] pg-boss error"));
  boss.on("warning", (warning) => logger().warn(`[queue] pg-boss warning: ${warning.message}`));
  try {
    await boss.start();
    await ensureRunQueues(boss);
  } catch (error) {
    await boss.stop({ graceful: false }).catch(() => undefined);
    throw error;
  }
  return boss;
}

/** The started pg-boss instance of this process; started on first use. */
export function queue(): Promise<PgBoss> {
  holder.__opsconductorBoss ??= startBoss().catch((error: unknown) => {
    // A failed start (database down) is retried by the next request instead of sticking.
    holder.__opsconductorBoss = undefined;
    throw error;
  });
  return holder.__opsconductorBoss;
}
