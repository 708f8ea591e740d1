// Cron schedules of jobs and the scheduler's on/off switch. Every change NOTIFYs the schedules
// channel inside its transaction so workers re-plan as soon as it commits.
import { nextInstants, notify, SCHEDULES_CHANNEL, type Db, type Prisma, type PrismaClient } from "@opsconductor/db";
import { z } from "zod";
import type { RouteContext } from "./api.server.ts";
import { decodeCursor, toPage } from "./api.server.ts";
import type { Principal } from "./auth.server.ts";
import { ApiError, notFound, type ErrorDetail } from "./errors.server.ts";
import { checkParameters } from "./jobs.server.ts";

type Audit = RouteContext<unknown, unknown, unknown, Principal>["audit"];

/** How many upcoming instants every schedule response previews. */
export const NEXT_RUNS = 5;

export const MISFIRE_POLICIES = ["skip", "fire_once", "fire_all"] as const;
export const OVERLAP_POLICIES = ["skip", "queue", "cancel_previous", "allow"] as const;

const fields = {
  name: z.string().trim().min(1).max(200).nullable(),
  cron: z.string().trim().min(1, "must not be empty").max(200),
  timezone: z.string().trim().min(1, "must not be empty").max(100),
  parameters: z.record(z.string(), z.unknown()),
  enabled: z.boolean(),
  misfirePolicy: z.enum(MISFIRE_POLICIES),
  overlapPolicy: z.enum(OVERLAP_POLICIES),
  misfireMaxAgeSec: z.number().int().min(1).max(30 * 24 * 3600),
};

/** Body of POST /api/schedules. */
export const createScheduleBody = z.strictObject({
  jobId: z.uuid({ error: "must be a job id (UUID)" }),
  name: fields.name.optional(),
  cron: fields.cron,
  timezone: fields.timezone.default("UTC"),
  parameters: fields.parameters.default({}),
  enabled: fields.enabled.default(true),
  misfirePolicy: fields.misfirePolicy.default("fire_once"),
  overlapPolicy: fields.overlapPolicy.default("skip"),
  misfireMaxAgeSec: fields.misfireMaxAgeSec.default(3600),
});

/** Body of PATCH /api/schedules/{id}: any of the fields; the job cannot change. */
export const updateScheduleBody = z.strictObject({
  name: fields.name.optional(),
  cron: fields.cron.optional(),
  timezone: fields.timezone.optional(),
  parameters: fields.parameters.optional(),
  enabled: fields.enabled.optional(),
  misfirePolicy: fields.misfirePolicy.optional(),
  overlapPolicy: fields.overlapPolicy.optional(),
  misfireMaxAgeSec: fields.misfireMaxAgeSec.optional(),
});

export type CreateSchedule = z.infer<typeof createScheduleBody>;
export type UpdateSchedule = z.infer<typeof updateScheduleBody>;

/** The zone as the user wrote it (letter case fixed where possible), or undefined when the runtime does not know it. */
function knownZone(timezone: string): string | undefined {
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat("en", { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
  // ICU answers with legacy links (Asia/Kolkata becomes Asia/Calcutta): keep the user's name then.
  return resolved.toLowerCase() === timezone.toLowerCase() ? resolved : timezone;
}

function fieldCountProblem(cron: string): string | undefined {
  if (cron.startsWith("@")) return undefined;
  const count = cron.split(/\s+/).length;
  if (count === 5 || count === 6) return undefined;
  return `must have 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first; got ${count}`;
}

/** The next `count` instants of a cron expression in an IANA zone, after `from` (the worker's own rules, DST included). */
function upcoming(cron: string, timezone: string, from: Date, count: number): Date[] {
  return nextInstants(cron, timezone, from, count);
}

/**
 * Validates a cron expression and an IANA zone together, naming `body.cron` and `body.timezone`
 * with the reason, and returns the zone with the next instants.
 */
export function planSchedule(cron: string, timezone: string, from = new Date()): { timezone: string; nextRuns: Date[] } {
  const details: ErrorDetail[] = [];
  const zone = knownZone(timezone);
  if (!zone) details.push({ path: "body.timezone", message: `body.timezone "${timezone}" is not an IANA time zone such as Europe/London or America/New_York` });
  let nextRuns: Date[] = [];
  const fieldProblem = fieldCountProblem(cron);
  if (fieldProblem) details.push({ path: "body.cron", message: `body.cron ${fieldProblem}` });
  else {
    try {
      nextRuns = upcoming(cron, zone ?? "UTC", from, NEXT_RUNS);
      if (nextRuns.length === 0) details.push({ path: "body.cron", message: "body.cron never fires" });
    } catch (error) {
      details.push({ path: "body.cron", message: `body.cron is not a valid cron expression: ${(error as Error).message}` });
    }
  }
  if (details.length > 0) throw new ApiError(400, "validation_failed", details.map((d) => d.message).join("; "), { details });
  return { timezone: zone!, nextRuns };
}

// A stored schedule was valid when written; a zone the runtime forgot since must not break listing.
function previewRuns(cron: string, timezone: string, from: Date): string[] {
  try {
    return upcoming(cron, timezone, from, NEXT_RUNS).map((d) => d.toISOString());
  } catch {
    return [];
  }
}

const scheduleInclude = { job: { select: { name: true } } } as const;
type ScheduleRow = Prisma.ScheduleGetPayload<{ include: typeof scheduleInclude }>;

function presentSchedule(s: ScheduleRow, now = new Date()) {
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

/** Checks schedule parameters against the job's current version; secrets cannot be stored in a schedule. */
async function checkScheduleParameters(db: Db, jobId: string, parameters: Record<string, unknown>, jobPath: string): Promise<void> {
  const job = await db.job.findUnique({ where: { id: jobId }, select: { currentVersion: { select: { definition: true } } } });
  if (!job?.currentVersion) {
    throw new ApiError(400, "validation_failed", `${jobPath} is not an existing job`, { details: [{ path: jobPath, message: `${jobPath} is not an existing job` }] });
  }
  const resolved = checkParameters(job.currentVersion.definition, parameters, "body.parameters");
  const secrets = Object.keys(parameters).filter((name) => resolved.secretNames.has(name) && parameters[name] !== undefined && parameters[name] !== null && parameters[name] !== "");
  if (secrets.length > 0) {
    const details = secrets.map((name) => ({ path: `body.parameters.${name}`, message: `body.parameters.${name} is a secret parameter; a schedule cannot store secret values` }));
    throw new ApiError(400, "validation_failed", details.map((d) => d.message).join("; "), { details });
  }
}

async function findSchedule(db: Db, id: string): Promise<ScheduleRow> {
  const schedule = await db.schedule.findUnique({ where: { id }, include: scheduleInclude });
  if (!schedule) throw notFound("schedule");
  return schedule;
}

const scheduleCursor = z.object({ createdAt: z.iso.datetime(), id: z.uuid() });

export interface ScheduleListQuery {
  limit: number;
  cursor?: string | undefined;
  jobId?: string | undefined;
  enabled?: boolean | undefined;
}

/** Schedules, newest first, optionally of one job and by enabled flag. */
export async function listSchedules(db: Db, query: ScheduleListQuery) {
  const after = decodeCursor(query.cursor, scheduleCursor);
  const rows = await db.schedule.findMany({
    where: {
      ...(query.jobId ? { jobId: query.jobId } : {}),
      ...(query.enabled === undefined ? {} : { enabled: query.enabled }),
      ...(after ? { OR: [{ createdAt: { lt: new Date(after.createdAt) } }, { createdAt: new Date(after.createdAt), id: { lt: after.id } }] } : {}),
    },
    include: scheduleInclude,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: query.limit + 1,
  });
  const page = toPage(rows, query.limit, (s) => ({ createdAt: s.createdAt.toISOString(), id: s.id }));
  const now = new Date();
  return { items: page.items.map((s) => presentSchedule(s, now)), nextCursor: page.nextCursor };
}

/** One schedule with its next instants. */
export async function getSchedule(db: Db, id: string) {
  return presentSchedule(await findSchedule(db, id));
}

/** Creates a schedule; its cron, zone and parameters are checked and nextRunAt is computed. */
export async function createSchedule(db: PrismaClient, input: CreateSchedule, principal: Principal, audit: Audit) {
  const plan = planSchedule(input.cron, input.timezone);
  const id = await db.$transaction(async (tx) => {
    await checkScheduleParameters(tx, input.jobId, input.parameters, "body.jobId");
    const schedule = await tx.schedule.create({
      data: {
        jobId: input.jobId,
        name: input.name ?? null,
        cron: input.cron,
        timezone: plan.timezone,
        parameters: input.parameters as Prisma.InputJsonValue,
        enabled: input.enabled,
        misfirePolicy: input.misfirePolicy,
        overlapPolicy: input.overlapPolicy,
        misfireMaxAgeSec: input.misfireMaxAgeSec,
        nextRunAt: input.enabled ? plan.nextRuns[0]! : null,
        createdById: principal.id,
      },
      include: scheduleInclude,
    });
    await notify(tx, SCHEDULES_CHANNEL, {});
    await audit(
      {
        action: "schedule.create",
        entityType: "schedule",
        entityId: schedule.id,
        summary: `${principal.username} scheduled job ${schedule.job.name} at "${schedule.cron}" (${schedule.timezone})`,
        details: { jobId: schedule.jobId, cron: schedule.cron, timezone: schedule.timezone, enabled: schedule.enabled },
      },
      tx,
    );
    return schedule.id;
  });
  return getSchedule(db, id);
}

/** Changes a schedule; nextRunAt is recomputed only when its timing or enabled flag changes. */
export async function updateSchedule(db: PrismaClient, id: string, input: UpdateSchedule, principal: Principal, audit: Audit) {
  await db.$transaction(async (tx) => {
    const current = await findSchedule(tx, id);
    const cron = input.cron ?? current.cron;
    const enabled = input.enabled ?? current.enabled;
    const timing = input.cron !== undefined || input.timezone !== undefined || enabled !== current.enabled;
    const plan = timing ? planSchedule(cron, input.timezone ?? current.timezone) : undefined;
    if (input.parameters !== undefined) await checkScheduleParameters(tx, current.jobId, input.parameters, "params.id");
    const data: Prisma.ScheduleUpdateInput = {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.cron !== undefined ? { cron: input.cron } : {}),
      ...(plan ? { timezone: plan.timezone, nextRunAt: enabled ? plan.nextRuns[0]! : null } : {}),
      ...(input.parameters !== undefined ? { parameters: input.parameters as Prisma.InputJsonValue } : {}),
      ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
      ...(input.misfirePolicy !== undefined ? { misfirePolicy: input.misfirePolicy } : {}),
      ...(input.overlapPolicy !== undefined ? { overlapPolicy: input.overlapPolicy } : {}),
      ...(input.misfireMaxAgeSec !== undefined ? { misfireMaxAgeSec: input.misfireMaxAgeSec } : {}),
    };
    await tx.schedule.update({ where: { id }, data });
    await notify(tx, SCHEDULES_CHANNEL, {});
    await audit(
      {
        action: "schedule.update",
        entityType: "schedule",
        entityId: id,
        summary: `${principal.username} changed the schedule of job ${current.job.name}`,
        details: { changed: Object.keys(input).filter((k) => input[k as keyof UpdateSchedule] !== undefined) },
      },
      tx,
    );
  });
  return getSchedule(db, id);
}

/** Deletes a schedule; runs it started keep their history. */
export async function deleteSchedule(db: PrismaClient, id: string, principal: Principal, audit: Audit): Promise<void> {
  await db.$transaction(async (tx) => {
    const schedule = await findSchedule(tx, id);
    await tx.schedule.delete({ where: { id } });
    await notify(tx, SCHEDULES_CHANNEL, {});
    await audit(
      { action: "schedule.delete", entityType: "schedule", entityId: id, summary: `${principal.username} deleted a schedule of job ${schedule.job.name}`, details: { jobId: schedule.jobId, cron: schedule.cron } },
      tx,
    );
  });
}

/** How many due schedules the scheduler status lists. */
const DUE_LIMIT = 10;

/** Whether schedules fire, what the scheduler last did, and which schedules come due next. */
export async function schedulerStatus(db: Db) {
  const [state, due] = await Promise.all([
    db.schedulerState.findUnique({ where: { id: 1 } }),
    db.schedule.findMany({
      where: { enabled: true, nextRunAt: { not: null } },
      orderBy: { nextRunAt: "asc" },
      take: DUE_LIMIT,
      include: scheduleInclude,
    }),
  ]);
  return {
    enabled: state?.enabled ?? true,
    changedAt: state?.changedAt ?? null,
    changedById: state?.changedById ?? null,
    lastTickAt: state?.lastTickAt ?? null,
    lastLagMs: state?.lastLagMs ?? null,
    due: due.map((s) => ({ id: s.id, name: s.name, jobId: s.jobId, jobName: s.job.name, cron: s.cron, timezone: s.timezone, nextRunAt: s.nextRunAt })),
  };
}

/** Turns the scheduler on or off for every worker. */
export async function setSchedulerEnabled(db: PrismaClient, enabled: boolean, principal: Principal, audit: Audit) {
  await db.$transaction(async (tx) => {
    const now = new Date();
    await tx.schedulerState.upsert({
      where: { id: 1 },
      create: { id: 1, enabled, changedAt: now, changedById: principal.id },
      update: { enabled, changedAt: now, changedById: principal.id },
    });
    await notify(tx, SCHEDULES_CHANNEL, {});
    await audit({ action: enabled ? "scheduler.start" : "scheduler.stop", entityType: "scheduler", entityId: "1", summary: `${principal.username} ${enabled ? "started" : "stopped"} the scheduler` }, tx);
  });
  return schedulerStatus(db);
}
