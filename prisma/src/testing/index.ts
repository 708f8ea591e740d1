// Per-test-file databases: each file gets a fresh database cloned from a migrated template, so
// files run in parallel and never see each other's rows. The template is prepared once by the
// global setup in prisma/src/testing/global-setup.ts.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, inject } from "vitest";
import { createPrismaClient, type PrismaClient } from "../database/client.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Connection string of the maintenance database on the test server. */
    postgresAdminUrl: string;
    /** Name of the migrated template database. */
    postgresTemplate: string;
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  prisma: PrismaClient;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Creates a freshly migrated database for the calling test file and drops it after the file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject("postgresAdminUrl");
  const template = inject("postgresTemplate");
  const name = `test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const prisma = createPrismaClient(url, { maxConnections: 5 });
  afterAll(async () => {
    await prisma.$disconnect();
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    try {
      await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await cleanup.end();
    }
  });
  return { name, url, prisma };
}
