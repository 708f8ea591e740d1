// The dashboard's panels, each read only when the role may see it (the loader passes what it may).
import { metricHistory, type Db } from "@opsconductor/db";
import { listWorkers } from "./status.server.ts";

const PANEL_ROWS = 10;

/** Runs queued or running now, oldest first (what the "in progress" panel lists). */
export async function runsInProgress(db: Db) {
  const runs = await db.jobRun.findMany({
    where: { status: { in: ["queued", "running"] } },
    orderBy: [{ queuedAt: "asc" }, { id: "asc" }],
    take: PANEL_ROWS,
    select: { id: true, status: true, queuedAt: true, startedAt: true, workerId: true, job: { select: { name: true } } },
  });
  return runs.map(({ job, ...run }) => ({ ...run, jobName: job.name }));
}

/** The newest failed or timed-out runs with the first step that failed (to link to it). */
export async function recentFailures(db: Db) {
  const runs = await db.jobRun.findMany({
    where: { status: { in: ["failed", "timed_out"] } },
    orderBy: [{ finishedAt: { sort: "desc", nulls: "last" } }, { id: "asc" }],
    take: PANEL_ROWS,
    select: {
      id: true,
      status: true,
      finishedAt: true,
      error: true,
      job: { select: { name: true } },
      steps: { where: { status: { in: ["failed", "timed_out"] } }, orderBy: { index: "asc" }, take: 1, select: { index: true, name: true } },
    },
  });
  return runs.map(({ job, steps, error, ...run }) => ({ ...run, error: error?.slice(0, 300) ?? null, jobName: job.name, failedStep: steps[0] ?? null }));
}

/** Enabled schedules by their next run, soonest first. */
export async function upcomingScheduledRuns(db: Db) {
  const schedules = await db.schedule.findMany({
    where: { enabled: true, nextRunAt: { not: null } },
    orderBy: [{ nextRunAt: "asc" }, { id: "asc" }],
    take: PANEL_ROWS,
    select: { id: true, name: true, cron: true, timezone: true, nextRunAt: true, job: { select: { id: true, name: true } } },
  });
  return schedules.map(({ job, ...s }) => ({ ...s, jobId: job.id, jobName: job.name }));
}

/** Run volume and success over the last day, from the metrics history. */
export function runVolume(db: Db) {
  return metricHistory(db, "day");
}

/** How many workers are online, of those that heart-beat. */
export async function workersOnline(db: Db) {
  const workers = await listWorkers(db);
  return { online: workers.filter((w) => w.online).length, total: workers.length };
}
