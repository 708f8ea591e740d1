import { describe, expect, test } from "vitest";
import { createTestDatabase } from "../testing/index.ts";
import { createJob, listMetricRollups, metricHistory, pruneMetricRollups, recordMetricSample, writeMetricRollups } from "../index.ts";

const { prisma } = await createTestDatabase();

const definition = { name: "Rollups", version: 1, steps: [{ type: "winrm.exec", shell: "powershell", target: "web-1", command: "hostname" }] };
const at = (hhmmss: string) => new Date(`2026-01-10T${hhmmss}Z`);
const minute = (hhmm: string) => at(`${hhmm}:00`);

// A known set of runs: which minute each started and ended in, and how.
async function seedRuns() {
  const job = await createJob(prisma, { name: "rollup-job", definition });
  const run = async (status: "queued" | "succeeded" | "failed" | "timed_out" | "canceled", startedAt: string | null, finishedAt: string | null, steps: [string, string][] = []) => {
    const created = await prisma.jobRun.create({
      data: { jobId: job.id, jobVersionId: job.currentVersionId!, status, queuedAt: at("09:59:00"), startedAt: startedAt ? at(startedAt) : null, finishedAt: finishedAt ? at(finishedAt) : null },
    });
    for (const [i, [from, to]] of steps.entries()) {
      await prisma.jobRunStep.create({ data: { runId: created.id, index: i, name: `step ${i}`, type: "winrm.exec", status: "succeeded", startedAt: at(from), finishedAt: at(to) } });
    }
  };
  await run("succeeded", "10:00:10", "10:01:20", [["10:00:10", "10:01:20"]]); // a 70 s step ending in 10:01
  await run("failed", "10:00:30", "10:02:05", [["10:00:30", "10:00:40"]]); // a 10 s step ending in 10:00
  await run("timed_out", "10:01:00", "10:02:59", [["10:01:00", "10:01:30"]]); // a 30 s step ending in 10:01
  await run("canceled", "10:02:00", "10:03:00"); // neither succeeded nor failed
  await run("queued", null, null); // never started: counted nowhere
  await run("succeeded", "09:58:00", "09:59:00"); // outside the window written
}

const row = (hhmm: string, runsStarted: number, runsSucceeded: number, runsFailed: number, stepP95Ms: number | null, sample: { queueDepth?: number | null; schedulerLagMs?: number | null } = {}) => ({
  minute: minute(hhmm),
  runsStarted,
  runsSucceeded,
  runsFailed,
  stepP95Ms,
  queueDepth: sample.queueDepth ?? null,
  schedulerLagMs: sample.schedulerLagMs ?? null,
});

describe("metric rollups", () => {
  test("a known set of runs gives exact per-minute rows, the same however often and by however many workers they are written; samples merge to the largest", async () => {
    await seedRuns();
    const window = { from: at("10:00:00"), to: at("10:03:45") };
    // Two workers writing the same minutes at once, then one again later: the rows must not double.
    await Promise.all([writeMetricRollups(prisma, window), writeMetricRollups(prisma, window)]);
    await writeMetricRollups(prisma, window);
    await recordMetricSample(prisma, { queueDepth: 3, schedulerLagMs: null, at: at("10:01:05") });
    await recordMetricSample(prisma, { queueDepth: 5, schedulerLagMs: 200, at: at("10:01:40") });
    await recordMetricSample(prisma, { queueDepth: 1, schedulerLagMs: 50, at: at("10:01:59") });

    const expected = [
      row("10:00", 2, 0, 0, 10_000),
      // p95 of 70 s and 30 s, linear interpolation: 30 + 0.95 × 40 = 68 s.
      row("10:01", 1, 1, 0, 68_000, { queueDepth: 5, schedulerLagMs: 200 }),
      row("10:02", 1, 0, 2, null),
      row("10:03", 0, 0, 0, null),
    ];
    expect(await listMetricRollups(prisma, { from: minute("09:00"), to: minute("11:00") })).toEqual(expected);
    // Recomputing after the samples keeps them.
    await writeMetricRollups(prisma, window);
    expect(await listMetricRollups(prisma, { from: minute("09:00"), to: minute("11:00") })).toEqual(expected);

    const hour = await metricHistory(prisma, "hour", at("10:03:30"));
    expect(hour.points).toHaveLength(60);
    expect(hour.points.at(-1)!.at).toEqual(minute("10:03"));
    expect(hour.points.find((p) => p.at.getTime() === minute("10:01").getTime())).toEqual({ at: minute("10:01"), runsStarted: 1, runsSucceeded: 1, runsFailed: 0, queueDepth: 5, schedulerLagMs: 200, stepP95Ms: 68_000 });
    expect(hour.points.find((p) => p.at.getTime() === minute("09:30").getTime())).toEqual({ at: minute("09:30"), runsStarted: 0, runsSucceeded: 0, runsFailed: 0, queueDepth: null, schedulerLagMs: null, stepP95Ms: null });
    const day = await metricHistory(prisma, "day", at("10:03:30"));
    expect(day.points).toHaveLength(96);
    expect(day.points.at(-1)).toEqual({ at: minute("10:00"), runsStarted: 4, runsSucceeded: 1, runsFailed: 2, queueDepth: 5, schedulerLagMs: 200, stepP95Ms: 68_000 });
    expect((await metricHistory(prisma, "week", at("10:03:30"))).points).toHaveLength(168);
  });

  test("rows older than the retention are pruned, newer ones stay", async () => {
    const before = (await listMetricRollups(prisma, { from: minute("09:00"), to: minute("11:00") })).map((r) => r.minute);
    expect(before).toEqual([minute("10:00"), minute("10:01"), minute("10:02"), minute("10:03")]);
    // 14 days after 10:01:30: the minutes 10:00 and 10:01 began before the cut.
    expect(await pruneMetricRollups(prisma, 14, new Date("2026-01-24T10:01:30Z"))).toBe(2);
    expect((await listMetricRollups(prisma, { from: minute("09:00"), to: minute("11:00") })).map((r) => r.minute)).toEqual([minute("10:02"), minute("10:03")]);
    expect(await pruneMetricRollups(prisma, 14, new Date("2026-01-24T10:01:30Z"))).toBe(0);
  });
});
