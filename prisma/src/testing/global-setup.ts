// Starts one PostgreSQL for the whole test run (embedded, or TEST_DATABASE_URL's server) and
// prepares a migrated template database that every test file clones.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../database/embedded.ts";
import { applyMigrations } from "../database/migrate.ts";

const TEMPLATE = `opsconductor_template_${process.pid}`;

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export default async function setup(project: TestProject) {
  let adminUrl = process.env.TEST_DATABASE_URL;
  let stopServer = async () => {};
  let dataRoot: string | undefined;
  if (!adminUrl) {
    dataRoot = await mkdtemp(join(tmpdir(), "opsconductor-test-pg-"));
    // PostgreSQL runs as the unprivileged `postgres` user when we are root: it must reach the folder.
    await chmod(dataRoot, 0o755);
    const server = await startEmbeddedPostgres({
      dataDir: join(dataRoot, "data"),
      // Parallel test files each hold a few connections; fsync off because this data is thrown away.
      postgresFlags: ["-c", "max_connections=300", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
    });
    adminUrl = server.url;
    stopServer = server.stop;
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${TEMPLATE}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${TEMPLATE}"`);
  await applyMigrations(withDatabase(adminUrl, TEMPLATE));
  project.provide("postgresAdminUrl", adminUrl);
  project.provide("postgresTemplate", TEMPLATE);

  return async () => {
    await admin.query(`DROP DATABASE IF EXISTS "${TEMPLATE}" WITH (FORCE)`).catch(() => {});
    await admin.end();
    await stopServer();
    if (dataRoot) await rm(dataRoot, { recursive: true, force: true });
  };
}
