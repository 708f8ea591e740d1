// Reading schedules, each with a preview of its next instants.
import type { Db, Prisma } from "@opsconductor/db";
import type { ScheduleListQuery } from "../../schemas/schedules.ts";
import { notFound } from "../errors.server.ts";
import { newestFirst } from "../pagination.server.ts";
import { previewRuns } from "./plan.server.ts";

export const scheduleInclude = { job: { select: { name: true } } } as const;
type ScheduleRow = Prisma.ScheduleGetPayload<{ include: typeof scheduleInclude }>;

/** A schedule row as the API shows it, with its next instants. */
export function toScheduleView(s: ScheduleRow, now = new Date()) {
  return {
    id: s.id,
    jobId: s.jobId,
    jobName: s.job.name,
    name: s.name,
    cron: s.cron,
    timezone: s.timezone,
    parameters: s.parameters,
    enabled: s.enabled,
    misfirePolicy: s.misfirePolicy,
    overlapPolicy: s.overlapPolicy,
    misfireMaxAgeSec: s.misfireMaxAgeSec,
    nextRunAt: s.nextRunAt,
    lastRunAt: s.lastRunAt,
    nextRuns: previewRuns(s.cron, s.timezone, now),
    createdById: s.createdById,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

/** A schedule row with its job's name, or a 404. */
export async function findSchedule(db: Db, id: string): Promise<ScheduleRow> {
  const schedule = await db.schedule.findUnique({ where: { id }, include: scheduleInclude });
  if (!schedule) throw notFound("schedule");
  return schedule;
}

/** Schedules, newest first, optionally of one job and by enabled flag. */
export async function listSchedules(db: Db, query: ScheduleListQuery) {
  const keyset = newestFirst(query, "createdAt");
  const where: Prisma.ScheduleWhereInput = {
    ...(query.jobId ? { jobId: query.jobId } : {}),
    ...(query.enabled === undefined ? {} : { enabled: query.enabled }),
  };
  const rows = await db.schedule.findMany({ include: scheduleInclude, ...keyset.args(where) });
  const page = keyset.page(rows);
  const now = new Date();
  return { items: page.items.map((s) => toScheduleView(s, now)), nextCursor: page.nextCursor };
}

/** One schedule with its next instants. */
export async function getSchedule(db: Db, id: string) {
  return toScheduleView(await findSchedule(db, id));
}
