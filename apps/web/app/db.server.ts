import { createPrismaClient, type PrismaClient } from "@opsconductor/db";
import pg from "pg";
import { env } from "./env.server.ts";

// One pool per process; kept on globalThis so Vite's module reloads in dev don't open another.
const holder = globalThis as typeof globalThis & { __opsconductorPrisma?: PrismaClient; __opsconductorPool?: pg.Pool };

/** The web app's shared database client. */
export function db(): PrismaClient {
  if (!holder.__opsconductorPrisma) {
    // Our own pool (Prisma's adapter would make an equal one) so the metrics can report its use.
    holder.__opsconductorPool = new pg.Pool({ connectionString: env().DATABASE_URL, max: 10 });
    holder.__opsconductorPrisma = createPrismaClient(env().DATABASE_URL, { pool: holder.__opsconductorPool });
  }
  return holder.__opsconductorPrisma;
}

/** Connections of the shared pool: open, idle, and requests waiting for one. */
export function dbPoolUse(): { total: number; idle: number; waiting: number } {
  const pool = holder.__opsconductorPool;
  return { total: pool?.totalCount ?? 0, idle: pool?.idleCount ?? 0, waiting: pool?.waitingCount ?? 0 };
}
