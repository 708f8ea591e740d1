// What the schedule pages read besides the API's views: the jobs a schedule can run (with their
// parameter declarations), each schedule's newest run, and the runs one schedule fired.
import type { ParameterDeclaration } from "@opsconductor/core/schema";
import type { Db } from "@opsconductor/db";

/** A scheduled run more than this late on its instant was a catch-up after a misfire (the scheduler's tolerance). */
const MISFIRE_TOLERANCE_MS = 60_000;

function declarations(definition: unknown): Record<string, ParameterDeclaration> {
  const parameters = (definition as { parameters?: unknown } | null)?.parameters;
  return parameters && typeof parameters === "object" ? (parameters as Record<string, ParameterDeclaration>) : {};
}

/** Jobs with a current version, by name, with their parameter declarations; only `jobId` when given. */
export async function schedulableJobs(db: Db, jobId?: string) {
  const jobs = await db.job.findMany({
    where: { currentVersionId: { not: null }, ...(jobId ? { id: jobId } : {}) },
    orderBy: { name: "asc" },
    select: { id: true, name: true, currentVersion: { select: { definition: true } } },
  });
  return jobs.map((j) => ({ id: j.id, name: j.name, parameters: declarations(j.currentVersion?.definition) }));
}

/** Every job's id and name, for the list's filter. */
export function jobChoices(db: Db): Promise<{ id: string; name: string }[]> {
  return db.job.findMany({ orderBy: { name: "asc" }, select: { id: true, name: true } });
}

/** The newest run of each of these schedules, by schedule id. */
export async function lastRuns(db: Db, scheduleIds: string[]) {
  if (scheduleIds.length === 0) return {};
  const rows = await db.jobRun.findMany({
    where: { scheduleId: { in: scheduleIds } },
    orderBy: [{ scheduleId: "asc" }, { queuedAt: "desc" }],
    distinct: ["scheduleId"],
    select: { id: true, scheduleId: true, status: true, queuedAt: true },
  });
  return Object.fromEntries(rows.map((r) => [r.scheduleId!, { id: r.id, status: r.status, queuedAt: r.queuedAt }]));
}

/**
 * The runs a schedule fired, newest first, each with the instant it was for (from its idempotency
 * key) and whether it started late as a misfire catch-up.
 */
export async function scheduleRuns(db: Db, scheduleId: string, take = 50) {
  const rows = await db.jobRun.findMany({
    where: { scheduleId },
    orderBy: { queuedAt: "desc" },
    take,
    select: { id: true, status: true, queuedAt: true, startedAt: true, finishedAt: true, idempotencyKey: true },
  });
  return rows.map(({ idempotencyKey, ...run }) => {
    const instant = idempotencyKey?.startsWith(`schedule:${scheduleId}:`) ? idempotencyKey.slice(`schedule:${scheduleId}:`.length) : null;
    const due = instant && !Number.isNaN(Date.parse(instant)) ? new Date(instant) : null;
    return { ...run, dueAt: due, misfire: due !== null && run.queuedAt.getTime() - due.getTime() > MISFIRE_TOLERANCE_MS };
  });
}
