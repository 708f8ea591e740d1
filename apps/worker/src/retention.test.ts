// Retention against a real database while the real web server answers API reads of the same runs:
// exactly the runs a policy lets go disappear (with their steps and output), referenced runs stay,
// and readers see no errors while the pass works in small batches.
import { lastPrunePass, parseMasterKeys, retentionDefaults, RUN_DEAD_LETTER_QUEUE, RUN_QUEUE, type PrismaClient } from "@opsconductor/db";
import { createTestJob, createTestRun, createTestSchedule, createTestStep, memoryLogger, outputLines, writeRunOutput } from "@opsconductor/testing";
import { startApp, type TestApp } from "@opsconductor/testing/web";
import { startTestWorker } from "@opsconductor/testing/worker";
import { beforeAll, describe, expect, test } from "vitest";
import { prunePass } from "./retention.ts";

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY);
const OFF = { runDays: 0, runCount: 0, outputDays: 0 };

let app: TestApp;
let db: PrismaClient;
let token: string;
beforeAll(async () => {
  app = await startApp();
  db = app.prisma;
  token = (await app.login("viewer")).accessToken;
});

/** A finished run `days` old with two steps and `lines` output lines. */
async function oldRun(job: { id: string; currentVersionId: string | null }, days: number, extra: { status?: "succeeded" | "running" | "queued" | "failed"; scheduleId?: string; lines?: number } = {}) {
  const status = extra.status ?? "succeeded";
  const run = await createTestRun(db, job, {
    status,
    queuedAt: ago(days),
    startedAt: status === "queued" ? null : ago(days),
    finishedAt: status === "running" || status === "queued" ? null : ago(days),
    trigger: extra.scheduleId ? "schedule" : "manual",
    scheduleId: extra.scheduleId ?? null,
  });
  for (const index of [0, 1]) await createTestStep(db, run.id, { index, status: status === "succeeded" ? "succeeded" : "running" });
  await writeRunOutput(db, run.id, outputLines(1, extra.lines ?? 6));
  return run;
}

async function rowsOf(runId: string) {
  const [run, steps, chunks] = await Promise.all([db.jobRun.findUnique({ where: { id: runId } }), db.jobRunStep.count({ where: { runId } }), db.runOutputChunk.count({ where: { runId } })]);
  return { exists: run !== null, steps, chunks, outputPrunedAt: run?.outputPrunedAt ?? null };
}

describe("a 1-day policy on a job", () => {
  test("a pass removes exactly the runs older than a day, with their steps and output; a running run and a schedule's last run stay; API reads meanwhile all succeed", async () => {
    const job = await createTestJob(db);
    await db.job.update({ where: { id: job.id }, data: { retentionDays: 1 } });
    const other = await createTestJob(db); // no policy of its own, and the global default is off
    const schedule = await createTestSchedule(db, { jobId: job.id });

    const young = await oldRun(job, 0.5);
    const older = await oldRun(job, 1.5, { lines: 40 });
    const oldest = await oldRun(job, 3, { lines: 40 });
    const running = await oldRun(job, 3, { status: "running" });
    const queued = await oldRun(job, 3, { status: "queued" });
    const scheduleOld = await oldRun(job, 3, { scheduleId: schedule.id });
    const scheduleLast = await oldRun(job, 2, { scheduleId: schedule.id });
    const unrelated = await oldRun(other, 3);
    // The log line index, as a reader of the log builds it, goes too.
    expect((await app.request("GET", `/api/runs/${oldest.id}/log?from=1&to=10`, { token })).status).toBe(200);
    expect(await db.runOutputLines.count({ where: { runId: oldest.id } })).toBeGreaterThan(0);

    // Readers of what stays, and of the list, while the pass deletes one run and two output rows at a time.
    const kept = [young, running, scheduleLast, unrelated];
    let reading = true;
    const statuses: number[] = [];
    const readers = Array.from({ length: 3 }, async () => {
      while (reading) {
        for (const res of await Promise.all([
          app.request("GET", "/api/runs?limit=50", { token }),
          app.request("GET", `/api/jobs/${job.id}`, { token }),
          ...kept.map((r) => app.request("GET", `/api/runs/${r.id}`, { token })),
          app.request("GET", `/api/runs/${young.id}/log?from=1&to=6`, { token }),
        ]))
          statuses.push(res.status);
      }
    });
    const { logger } = memoryLogger();
    let result;
    try {
      result = await prunePass({ prisma: db, logger, holder: "test-worker", policy: OFF, batchRuns: 1, outputRowsPerStatement: 2 });
    } finally {
      reading = false;
      await Promise.all(readers);
    }

    expect(result).toMatchObject({ skipped: false, runs: 3, steps: 6, outputRuns: 0 });
    expect(result.outputRows).toBeGreaterThanOrEqual(40 + 40 + 6);
    expect(result.bytes).toBeGreaterThan(0);
    for (const gone of [older, oldest, scheduleOld]) expect(await rowsOf(gone.id)).toEqual({ exists: false, steps: 0, chunks: 0, outputPrunedAt: null });
    expect(await db.runOutputLines.count({ where: { runId: oldest.id } })).toBe(0);
    for (const stays of [young, running, queued, scheduleLast, unrelated]) expect(await rowsOf(stays.id)).toEqual({ exists: true, steps: 2, chunks: 6, outputPrunedAt: null });
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    // One audit entry with the counts; the pass is recorded for the system page.
    const audit = await db.auditLog.findMany({ where: { action: "retention.prune" } });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ runs: 3, steps: 6, outputRows: result.outputRows, bytes: result.bytes });
    expect(audit[0]!.summary).toContain("deleted 3 finished run(s)");
    const pass = await lastPrunePass(db);
    expect(pass).toMatchObject({ runs: 3, steps: 6, outputRows: result.outputRows, bytes: result.bytes, error: null, holder: "test-worker", totals: { runs: 3, bytes: result.bytes } });
    // The pass also records the defaults it pruned with (the UI cannot read a worker's environment).
    expect(await retentionDefaults(db)).toMatchObject({ ...OFF, reportedBy: "test-worker" });

    // Nothing left to do: the next pass removes nothing and writes no audit entry, but is recorded.
    const again = await prunePass({ prisma: db, logger, holder: "test-worker", policy: OFF });
    expect(again).toMatchObject({ skipped: false, runs: 0, outputRows: 0 });
    expect(await db.auditLog.count({ where: { action: "retention.prune" } })).toBe(1);
    expect(await lastPrunePass(db)).toMatchObject({ runs: 0, totals: { runs: 3 } });
    // The kept runs answer as before.
    expect((await app.request("GET", `/api/runs/${scheduleLast.id}`, { token })).status).toBe(200);
    expect((await app.request("GET", `/api/runs/${oldest.id}`, { token })).status).toBe(404);
  });
});

test("the global default applies to jobs without their own policy, and a job's 0 keeps its runs", async () => {
  const plain = await createTestJob(db);
  const forever = await createTestJob(db);
  await db.job.update({ where: { id: forever.id }, data: { retentionDays: 0 } });
  const a = await oldRun(plain, 10);
  const b = await oldRun(forever, 10);
  const c = await oldRun(plain, 2);
  const result = await prunePass({ prisma: db, logger: memoryLogger().logger, holder: "test-worker", policy: { runDays: 7, runCount: 0, outputDays: 0 } });
  expect(result.runs).toBe(1);
  expect((await rowsOf(a.id)).exists).toBe(false);
  expect((await rowsOf(b.id)).exists).toBe(true);
  expect((await rowsOf(c.id)).exists).toBe(true);
});

test("keep the last N runs: older finished runs of the job go, newest N stay", async () => {
  const job = await createTestJob(db);
  await db.job.update({ where: { id: job.id }, data: { retentionRuns: 2 } });
  const runs = [];
  for (const days of [0.1, 0.2, 0.3, 0.4]) runs.push(await oldRun(job, days));
  const result = await prunePass({ prisma: db, logger: memoryLogger().logger, holder: "test-worker", policy: OFF });
  expect(result.runs).toBe(2);
  expect(await Promise.all(runs.map(async (r) => (await rowsOf(r.id)).exists))).toEqual([true, true, false, false]);
});

test("output past its days is dropped while the run keeps its status and steps", async () => {
  const job = await createTestJob(db);
  await db.job.update({ where: { id: job.id }, data: { outputRetentionDays: 1 } });
  const old = await oldRun(job, 2, { status: "failed", lines: 12 });
  const recent = await oldRun(job, 0.5);
  const result = await prunePass({ prisma: db, logger: memoryLogger().logger, holder: "test-worker", policy: OFF, outputRowsPerStatement: 5 });
  expect(result).toMatchObject({ runs: 0, outputRuns: 1, outputRows: 12 });
  const after = await rowsOf(old.id);
  expect(after).toMatchObject({ exists: true, steps: 2, chunks: 0 });
  expect(after.outputPrunedAt).toBeInstanceOf(Date);
  expect((await db.jobRun.findUnique({ where: { id: old.id } }))!.status).toBe("failed");
  expect(await rowsOf(recent.id)).toMatchObject({ exists: true, chunks: 6, outputPrunedAt: null });
  const res = await app.request("GET", `/api/runs/${old.id}`, { token });
  expect(res.status).toBe(200);
  expect(res.body.status).toBe("failed");
});

test("one worker prunes at a time: another's pass is skipped while the lease is held", async () => {
  await db.$executeRawUnsafe(`UPDATE retention_state SET lease_until = now() + interval '1 minute', lease_holder = 'worker-a' WHERE id = 1`);
  const skipped = await prunePass({ prisma: db, logger: memoryLogger().logger, holder: "worker-b", policy: { runDays: 1, runCount: 0, outputDays: 0 } });
  expect(skipped.skipped).toBe(true);
  await db.$executeRawUnsafe(`UPDATE retention_state SET lease_until = now() - interval '1 second' WHERE id = 1`);
  expect((await prunePass({ prisma: db, logger: memoryLogger().logger, holder: "worker-b", policy: OFF })).skipped).toBe(false);
});

test("a worker started with a retention policy prunes on its timer and bounds pg-boss's finished jobs", async () => {
  const job = await createTestJob(db);
  const expired = await oldRun(job, 40);
  await db.$executeRawUnsafe(`UPDATE retention_state SET last_finished_at = NULL WHERE id = 1`);
  const started = await startTestWorker({ databaseUrl: app.databaseUrl, masterKeys: parseMasterKeys(app.masterKey), scheduler: false, retention: { policy: { runDays: 30, runCount: 0, outputDays: 0 }, intervalMs: 60_000, queueJobDays: 2, firstDelayMs: 0 } });
  try {
    await expect.poll(async () => (await rowsOf(expired.id)).exists).toBe(false);
    await expect.poll(async () => (await lastPrunePass(db))?.runs).toBe(1);
    for (const queue of [RUN_QUEUE, RUN_DEAD_LETTER_QUEUE]) expect((await started.worker.boss.getQueue(queue))?.deleteAfterSeconds).toBe(2 * 86_400);
    // The worker reported its settings at start, timer included, and named itself on the pass.
    expect(await retentionDefaults(db)).toMatchObject({ runDays: 30, runCount: 0, outputDays: 0, intervalSec: 60, queueJobDays: 2, reportedBy: started.worker.id });
    expect((await lastPrunePass(db))?.holder).toBe(started.worker.id);
    expect(started.problems()).toEqual([]);
  } finally {
    await started.worker.stop();
  }
});

test("PATCH /api/jobs/{id} sets a job's retention (operators; viewers refused; bad values named), and the pass follows it", async () => {
  const operator = (await app.login("operator")).accessToken;
  const job = await createTestJob(db);
  const expired = await oldRun(job, 5);
  expect((await app.request("GET", `/api/jobs/${job.id}`, { token })).body.retention).toEqual({ runDays: null, runCount: null, outputDays: null });
  expect((await app.request("PATCH", `/api/jobs/${job.id}`, { token, body: { retention: { runDays: 1 } } })).status).toBe(403);
  const bad = await app.request("PATCH", `/api/jobs/${job.id}`, { token: operator, body: { retention: { runDays: -1 } } });
  expect(bad.status).toBe(400);
  expect(bad.body.error.details).toEqual([expect.objectContaining({ path: "body.retention.runDays" })]);
  expect((await app.request("PATCH", `/api/jobs/${job.id}`, { token: operator, body: {} })).status).toBe(400);
  // Output cannot outlive its run: refused, naming the field, whether both come at once or against what the job has.
  const longer = await app.request("PATCH", `/api/jobs/${job.id}`, { token: operator, body: { retention: { runDays: 3, outputDays: 5 } } });
  expect(longer.status).toBe(400);
  expect(longer.body.error.details).toEqual([expect.objectContaining({ path: "body.retention.outputDays", message: expect.stringContaining("3") })]);
  const set = await app.request("PATCH", `/api/jobs/${job.id}`, { token: operator, body: { retention: { runDays: 3, outputDays: 1 } } });
  expect(set.status).toBe(200);
  expect(set.body).toMatchObject({ active: true, retention: { runDays: 3, runCount: null, outputDays: 1 } });
  expect(await db.auditLog.count({ where: { action: "job.update", entityId: job.id } })).toBe(1);
  await prunePass({ prisma: db, logger: memoryLogger().logger, holder: "test-worker", policy: OFF });
  expect((await rowsOf(expired.id)).exists).toBe(false);
  expect((await app.request("PATCH", `/api/jobs/${job.id}`, { token: operator, body: { retention: { outputDays: 4 } } })).body.error.details).toEqual([expect.objectContaining({ path: "body.retention.outputDays" })]);
  const cleared = await app.request("PATCH", `/api/jobs/${job.id}`, { token: operator, body: { retention: { runDays: null } } });
  expect(cleared.body.retention).toEqual({ runDays: null, runCount: null, outputDays: 1 });
});
