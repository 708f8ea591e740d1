// Global setup of the `db` project: one PostgreSQL with a migrated template database (each test
// file clones its own database from it), and one production build of the web app that every test
// file's web server serves read-only. Both are made at once, once per run.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import setupPostgres from "../../prisma/src/testing/global-setup.ts";
import { buildProduction } from "../../apps/web/production-build.ts";

// The ProvidedContext key "webBuildDir" is declared beside its reader, the web harness.
import type {} from "../support/src/web.ts";

export default async function setup(project: TestProject) {
  // Inside apps/web, so the server bundle resolves its dependencies from apps/web/node_modules.
  const webBuildDir = join(import.meta.dirname, "..", "..", "apps", "web", "node_modules", ".cache", `test-build-${process.pid}`);
  const needsWeb = process.env.OPSCONDUCTOR_SELFTEST_FIXTURES !== "1";
  const [postgres, web] = await Promise.allSettled([setupPostgres(project), needsWeb ? buildProduction(webBuildDir) : undefined]);
  if (postgres.status === "rejected" || web.status === "rejected") {
    if (postgres.status === "fulfilled") await postgres.value();
    await rm(webBuildDir, { recursive: true, force: true });
    throw postgres.status === "rejected" ? postgres.reason : (web as PromiseRejectedResult).reason;
  }
  const stopPostgres = postgres.value;
  project.provide("webBuildDir", needsWeb ? webBuildDir : "");
  return async () => {
    await stopPostgres();
    await rm(webBuildDir, { recursive: true, force: true });
  };
}
