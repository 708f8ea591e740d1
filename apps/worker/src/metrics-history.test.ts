// The worker writes the metrics history itself: a run it executed shows up in the row of the minute
// it finished in, a queue sample lands in the current minute, and rows past the retention go.
import { enqueueRun, listMetricRollups } from "@opsconductor/db";
import { createTestDatabase, waitForRun } from "@opsconductor/testing";
import { createWorkerFixture, startTestWorker } from "@opsconductor/testing/worker";
import { expect, test } from "vitest";
import { parseWorkerEnv } from "./env.ts";

const { url, prisma } = await createTestDatabase();
const fixture = await createWorkerFixture(prisma);

test("METRICS_RETENTION_DAYS defaults to 14 days and must be a whole number of days", () => {
  const base = { DATABASE_URL: url, OPSCONDUCTOR_MASTER_KEY: fixture.masterKeys.keys.test };
  expect(parseWorkerEnv(base).METRICS_RETENTION_DAYS).toBe(14);
  expect(parseWorkerEnv({ ...base, METRICS_RETENTION_DAYS: "3" }).METRICS_RETENTION_DAYS).toBe(3);
  expect(() => parseWorkerEnv({ ...base, METRICS_RETENTION_DAYS: "0" })).toThrow(/METRICS_RETENTION_DAYS/);
});

test("a worker writes the rollup of the runs it executed and prunes rows past the retention", { timeout: 120_000 }, async () => {
  const [{ now }] = (await prisma.$queryRaw<{ now: Date }[]>`SELECT now() AS now`) as [{ now: Date }];
  const day = 24 * 3600_000;
  const minuteOf = (d: Date) => new Date(Math.floor(d.getTime() / 60_000) * 60_000);
  // Left by an earlier worker: one row inside a 3-day retention, one outside it.
  await prisma.metricRollup.createMany({ data: [{ minute: minuteOf(new Date(now.getTime() - 2 * day)), runsStarted: 7 }, { minute: minuteOf(new Date(now.getTime() - 4 * day)), runsStarted: 9 }] });

  const { worker } = await startTestWorker({ databaseUrl: url, masterKeys: fixture.masterKeys, metricsRetentionDays: 3, metricsHistoryIntervalMs: 500 });
  const { jobId, versionId } = await fixture.job({ name: "Rollup run", steps: [{ type: "winrm.exec", shell: "powershell", target: fixture.targetName, command: "hostname" }] });
  const { run } = await enqueueRun(prisma, worker.boss, { jobId, jobVersionId: versionId, parameters: {} });
  const done = await waitForRun(prisma, run.id, (r) => r.status === "succeeded");
  const finished = minuteOf(done.finishedAt!);
  const started = minuteOf(done.startedAt!);

  await expect
    .poll(async () => (await listMetricRollups(prisma, { from: finished, to: finished }))[0]?.runsSucceeded, { timeout: 30_000 })
    .toBe(1);
  const rows = await listMetricRollups(prisma, { from: new Date(now.getTime() - 5 * day), to: new Date(Date.now() + 60_000) });
  expect(rows.find((r) => r.minute.getTime() === started.getTime())?.runsStarted).toBe(1);
  expect(rows.reduce((n, r) => n + r.runsFailed, 0)).toBe(0);
  // The queue was sampled (holding at most this run) and the step's duration is in the finishing minute's p95.
  const sampled = rows.filter((r) => r.queueDepth !== null);
  expect(sampled.length).toBeGreaterThan(0);
  expect(sampled.every((r) => r.queueDepth! <= 1)).toBe(true);
  expect(rows.find((r) => r.minute.getTime() === finished.getTime())?.stepP95Ms).toBeGreaterThanOrEqual(0);
  expect(rows.map((r) => r.runsStarted)).toContain(7);
  expect(rows.map((r) => r.runsStarted)).not.toContain(9);
  await worker.stop();
});
