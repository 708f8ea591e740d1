// The scheduler's on/off switch for every worker, and what it last did and will do next.
import { notify, SCHEDULES_CHANNEL, type Db, type PrismaClient } from "@opsconductor/db";
import type { Audit } from "../audit/audit.server.ts";
import type { Principal } from "../auth/tokens.server.ts";
import { scheduleInclude } from "./queries.server.ts";

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
