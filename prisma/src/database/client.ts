import { PrismaPg } from "@prisma/adapter-pg";
import type pg from "pg";
import { PrismaClient } from "../generated/client.ts";

export { PrismaClient };
export type { Prisma } from "../generated/client.ts";

/** A Prisma client or an interactive-transaction client: every data-access function takes one. */
export type Db = PrismaClient | Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

export interface CreateClientOptions {
  /** Largest number of pooled connections. */
  maxConnections?: number;
  /** A node-postgres pool of the caller's (which keeps it: disconnecting the client leaves it open), e.g. to report its use. */
  pool?: pg.Pool;
}

/** Creates a Prisma client for `url` over node-postgres (no Prisma engine binary involved). */
export function createPrismaClient(url: string, options: CreateClientOptions = {}): PrismaClient {
  const adapter = new PrismaPg(options.pool ?? { connectionString: url, max: options.maxConnections ?? 10 });
  return new PrismaClient({ adapter });
}
