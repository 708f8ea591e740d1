import { createPrismaClient, type PrismaClient } from "@opsconductor/db";
import { env } from "./env.server.ts";

// One pool per process; kept on globalThis so Vite's module reloads in dev don't open another.
const holder = globalThis as typeof globalThis & { __opsconductorPrisma?: PrismaClient };

/** The web app's shared database client. */
export function db(): PrismaClient {
  holder.__opsconductorPrisma ??= createPrismaClient(env().DATABASE_URL);
  return holder.__opsconductorPrisma;
}
