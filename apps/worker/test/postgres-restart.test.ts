// A PostgreSQL restart under a running worker: no manual action, the next runs (and cancels) work.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyMigrations, createPrismaClient, enqueueRun, requestRunControl } from "@opsconductor/db";
import { freePort, startEmbeddedPostgres } from "@opsconductor/db/embedded";
import { FINISHED_RUN_STATUSES as TERMINAL } from "@opsconductor/testing";
import { createWorkerFixture, startTestWorker } from "@opsconductor/testing/worker";
import { afterAll, expect, test } from "vitest";

// A server of this file's own: the shared test server must not be restarted under other files.
const dataRoot = await mkdtemp(join(tmpdir(), "opsconductor-restart-"));
await chmod(dataRoot, 0o755);
const port = await freePort();
const startPg = () => startEmbeddedPostgres({ dataDir: join(dataRoot, "data"), port, database: "opsconductor" });
let pg = await startPg();
await applyMigrations(pg.url);
const prisma = createPrismaClient(pg.url, { maxConnections: 2 });
const fixture = await createWorkerFixture(prisma);
const { worker, ...log } = await startTestWorker({ databaseUrl: pg.url, masterKeys: fixture.masterKeys, scheduler: false });
afterAll(async () => {
  await worker.stop();
  await prisma.$disconnect();
  await fixture.server.close();
  await pg.stop();
  await rm(dataRoot, { recursive: true, force: true });
});

async function waitFor<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await read();
      if (ok(value)) return value;
    } catch {
      // the database may still be coming back
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; worker log:\n${log.text().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test("runs and cancels keep working after PostgreSQL restarts under the worker", { timeout: 180_000 }, async () => {
  const sample = await fixture.job({ name: "Restart check", version: 1, steps: [{ type: "winrm.exec", shell: "powershell", target: fixture.targetName, command: "(Get-Service 'Spooler').Status" }] });
  const first = await enqueueRun(prisma, worker.boss, { jobId: sample.jobId, jobVersionId: sample.versionId, parameters: {} });
  expect((await waitFor(() => prisma.jobRun.findUniqueOrThrow({ where: { id: first.run.id } }), (r) => TERMINAL.includes(r.status), 30_000)).status).toBe("succeeded");

  await pg.stop();
  await new Promise((r) => setTimeout(r, 2_000));
  pg = await startPg();
  const restartedAt = new Date();

  // The same worker, untouched, takes new runs again.
  const second = await waitFor(() => enqueueRun(prisma, worker.boss, { jobId: sample.jobId, jobVersionId: sample.versionId, parameters: {} }), () => true, 30_000);
  expect((await waitFor(() => prisma.jobRun.findUniqueOrThrow({ where: { id: second.run.id } }), (r) => TERMINAL.includes(r.status), 60_000)).status).toBe("succeeded");

  // Its heartbeat resumed, so it is not taken for a lost worker.
  await waitFor(() => prisma.workerHeartbeat.findUniqueOrThrow({ where: { id: worker.id } }), (h) => h.lastSeenAt > restartedAt, 30_000);

  // Cancel still reaches it (by NOTIFY on the re-established LISTEN, or the polling fallback).
  const slow = await fixture.job({ name: "Slow after restart", version: 1, steps: [{ type: "winrm.exec", shell: "powershell", target: fixture.targetName, command: "Start-Sleep -Seconds 120" }] });
  const third = await enqueueRun(prisma, worker.boss, { jobId: slow.jobId, jobVersionId: slow.versionId, parameters: {} });
  await waitFor(() => prisma.jobRun.findUniqueOrThrow({ where: { id: third.run.id } }), (r) => r.status === "running", 30_000);
  await prisma.jobRun.update({ where: { id: third.run.id }, data: { cancelRequestedAt: new Date() } });
  await requestRunControl(prisma, { runId: third.run.id, action: "cancel" });
  expect((await waitFor(() => prisma.jobRun.findUniqueOrThrow({ where: { id: third.run.id } }), (r) => TERMINAL.includes(r.status), 10_000)).status).toBe("canceled");
});
