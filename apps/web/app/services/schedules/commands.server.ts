// Changing schedules. Every change NOTIFYs the schedules channel inside its transaction so workers
// re-plan as soon as it commits.
import { notify, SCHEDULES_CHANNEL, type Db, type Prisma, type PrismaClient } from "@opsconductor/db";
import type { CreateSchedule, UpdateSchedule } from "../../schemas/schedules.ts";
import { checkParameters } from "../jobs/definitions.server.ts";
import type { Audit } from "../audit/audit.server.ts";
import type { Principal } from "../auth/tokens.server.ts";
import { invalidField, validationFailed } from "../errors.server.ts";
import { planSchedule } from "./plan.server.ts";
import { findSchedule, getSchedule, scheduleInclude } from "./queries.server.ts";

/** Checks schedule parameters against the job's current version; secrets cannot be stored in a schedule. */
async function checkScheduleParameters(db: Db, jobId: string, parameters: Record<string, unknown>, jobPath: string): Promise<void> {
  const job = await db.job.findUnique({ where: { id: jobId }, select: { currentVersion: { select: { definition: true } } } });
  if (!job?.currentVersion) {
    throw invalidField(jobPath, "is not an existing job");
  }
  const resolved = checkParameters(job.currentVersion.definition, parameters, "body.parameters");
  const secrets = Object.keys(parameters).filter((name) => resolved.secretNames.has(name) && parameters[name] !== undefined && parameters[name] !== null && parameters[name] !== "");
  if (secrets.length > 0) {
    const details = secrets.map((name) => ({ path: `body.parameters.${name}`, message: `body.parameters.${name} is a secret parameter; a schedule cannot store secret values` }));
    throw validationFailed(details);
  }
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
