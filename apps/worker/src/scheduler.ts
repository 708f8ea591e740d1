// The schedule loop. The schedules table is the only source of truth: every worker runs this loop,
// and a schedule is claimed with FOR UPDATE SKIP LOCKED, so any number of workers fire each instant
// once. The claim, the runs it creates (with their pg-boss jobs) and the schedule's next_run_at are
// written in one transaction; the idempotency key `schedule:<id>:<instant>` makes a double fire of
// the same instant impossible even if that ever failed. Between ticks the loop sleeps until the
// earliest next_run_at and wakes early on a NOTIFY from the web app.
import { cronInstants, nextInstant, ParameterError, parseJobDefinition, resolveParameters, validateCron, type JobDefinition } from "@opsconductor/core";
import {
  cancelRun,
  prepareRunParameters,
  requestRuns,
  SCHEDULES_CHANNEL,
  type Db,
  type MisfirePolicy,
  type OverlapPolicy,
  type PreparedRunParameters,
  type Prisma,
  type PrismaClient,
  type RequestRunInput,
  type RunParameterSealer,
} from "@opsconductor/db";
import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import { systemClock, type Clock } from "./clock.ts";
import { listen } from "./listen.ts";

/** Defaults of the tunable limits in SchedulerOptions. */
export const SCHEDULER_DEFAULTS = Object.freeze({
  /** Schedules claimed per transaction. */
  batchSize: 50,
  /** Longest sleep between ticks, so a lost NOTIFY delays a change by at most this. */
  maxSleepMs: 60_000,
  /** A schedule at most this late fires normally; later than this its misfire policy decides. */
  misfireToleranceMs: 60_000,
  /** Most runs one schedule creates in one tick (fire_all after a long downtime), and one claim transaction creates. */
  maxRunsPerTick: 1000,
});

/** Repeated problems of one schedule (bad cron, bad parameters) are logged at most this often. */
const REPEAT_WARNING_MS = 10 * 60_000;
/** Sleep while due schedules are held by another scheduler's transaction. */
const PEER_BUSY_SLEEP_MS = 50;

export interface SchedulerOptions {
  prisma: PrismaClient;
  boss: PgBoss;
  /** For the dedicated LISTEN connection. */
  databaseUrl: string;
  logger: Logger;
  clock?: Clock;
  /**
   * Seals the values of secret parameters for a run's queue job (sealRunParameters with the worker's
   * keyring). Without it, a schedule whose job needs secret values does not fire.
   */
  sealSecrets?: RunParameterSealer;
  batchSize?: number;
  maxSleepMs?: number;
  misfireToleranceMs?: number;
  maxRunsPerTick?: number;
}

export interface SchedulerStatus {
  /** False once stop() was called. */
  running: boolean;
  /** scheduler_state.enabled as last read; null before the first tick. */
  enabled: boolean | null;
  /** Whether the LISTEN connection has been established. */
  listening: boolean;
  ticks: number;
  lastTickAt: Date | null;
  lastLagMs: number | null;
  /** When the loop will look again (unless woken); null while a tick runs. */
  sleepingUntil: Date | null;
  /** Runs this scheduler created. */
  runsCreated: number;
  /** Instants this scheduler found already fired (should stay 0: claims are exclusive). */
  duplicateFires: number;
  lastError: string | null;
}

export interface Scheduler {
  /** Stops the loop and closes the LISTEN connection; the caller's prisma and boss stay open. */
  stop(): Promise<void>;
  status(): SchedulerStatus;
  /** Makes a sleeping loop tick now (as a NOTIFY on SCHEDULES_CHANNEL does). */
  wake(): void;
}

/** What planFirings needs of a schedule. */
export interface SchedulePlanInput {
  cron: string;
  timezone: string;
  nextRunAt: Date;
  misfirePolicy: MisfirePolicy;
  misfireMaxAgeSec: number;
}

export interface FiringPlan {
  /** Instants to create runs for, oldest first, before the overlap policy is applied. */
  instants: Date[];
  /** The schedule's first instant after `now`. */
  next: Date;
  /** The schedule was later than the tolerance, so its misfire policy decided. */
  misfire: boolean;
}

/**
 * Which instants of a due schedule fire at `now`. Up to the tolerance late, every instant from
 * next_run_at to now fires; later than that, `skip` fires none, `fire_once` one (identified by the
 * first missed instant) and `fire_all` each missed instant at most misfireMaxAgeSec old.
 */
export function planFirings(
  schedule: SchedulePlanInput,
  now: Date,
  limits: { misfireToleranceMs?: number; maxRunsPerTick?: number } = {},
): FiringPlan {
  const tolerance = limits.misfireToleranceMs ?? SCHEDULER_DEFAULTS.misfireToleranceMs;
  const maxRuns = limits.maxRunsPerTick ?? SCHEDULER_DEFAULTS.maxRunsPerTick;
  const due = schedule.nextRunAt.getTime();
  const until = now.getTime();
  // The walk below ends at the first instant after now, which is `next`: one cron walk per schedule, not two.
  let firstAfterNow: Date | undefined;
  const next = () => firstAfterNow ?? nextInstant(schedule.cron, schedule.timezone, now);
  // Instants in [from, now]; next_run_at counts as one even if the cron was edited since.
  const between = (from: number): Date[] => {
    const found: Date[] = [];
    if (from <= due) found.push(schedule.nextRunAt);
    for (const at of cronInstants(schedule.cron, schedule.timezone, new Date(Math.max(from - 1, due)))) {
      if (at.getTime() > until) {
        firstAfterNow = at;
        break;
      }
      if (found.length >= maxRuns) break;
      found.push(at);
    }
    return found;
  };
  if (until - due <= tolerance) return { instants: between(due), next: next(), misfire: false };
  switch (schedule.misfirePolicy) {
    case "skip":
      return { instants: [], next: next(), misfire: true };
    case "fire_once":
      return { instants: [schedule.nextRunAt], next: next(), misfire: true };
    case "fire_all": {
      const instants = between(Math.max(due, until - schedule.misfireMaxAgeSec * 1000));
      return { instants, next: next(), misfire: true };
    }
  }
}

/** The idempotency key of the run a schedule creates for one instant. */
export function scheduledRunKey(scheduleId: string, instant: Date): string {
  return `schedule:${scheduleId}:${instant.toISOString()}`;
}

interface DueSchedule extends SchedulePlanInput {
  id: string;
  jobId: string;
  parameters: Prisma.JsonValue;
  overlapPolicy: OverlapPolicy;
  jobVersionId: string | null;
  jobActive: boolean;
}

interface ActiveRun {
  id: string;
  scheduleId: string;
}

type Resolved = { ok: true; parameters: PreparedRunParameters } | { ok: false; reason: string };

// SQL of the loop, in one place.
const sql = {
  state: (db: Db) => db.$queryRaw<{ enabled: boolean }[]>`SELECT enabled FROM scheduler_state WHERE id = 1`,
  recordTick: (db: Db, at: Date, lagMs: number | null) =>
    lagMs === null
      ? db.$executeRaw`INSERT INTO scheduler_state (id, last_tick_at) VALUES (1, ${at}) ON CONFLICT (id) DO UPDATE SET last_tick_at = EXCLUDED.last_tick_at`
      : db.$executeRaw`INSERT INTO scheduler_state (id, last_tick_at, last_lag_ms) VALUES (1, ${at}, ${lagMs}) ON CONFLICT (id) DO UPDATE SET last_tick_at = EXCLUDED.last_tick_at, last_lag_ms = EXCLUDED.last_lag_ms`,
  missingNext: (db: Db, afterId: string, limit: number) =>
    db.$queryRaw<{ id: string; cron: string; timezone: string }[]>`
      SELECT id, cron, timezone FROM schedules
       WHERE enabled AND next_run_at IS NULL AND id > ${afterId}::uuid
       ORDER BY id LIMIT ${limit}`,
  // Conditional: a peer may have filled and fired the schedule meanwhile.
  fillNext: (db: Db, ids: string[], nexts: string[]) =>
    db.$executeRaw`
      UPDATE schedules AS s SET next_run_at = v.next
        FROM unnest(${ids}::uuid[], ${nexts}::timestamptz[]) AS v(id, next)
       WHERE s.id = v.id AND s.next_run_at IS NULL`,
  claimDue: (db: Db, now: Date, limit: number) =>
    db.$queryRaw<DueSchedule[]>`
      SELECT s.id, s.job_id AS "jobId", s.cron, s.timezone, s.parameters, s.next_run_at AS "nextRunAt",
             s.misfire_policy::text AS "misfirePolicy", s.misfire_max_age_sec AS "misfireMaxAgeSec",
             s.overlap_policy::text AS "overlapPolicy", j.current_version_id AS "jobVersionId", j.active AS "jobActive"
        FROM schedules s JOIN jobs j ON j.id = s.job_id
       WHERE s.enabled AND s.next_run_at <= ${now}
         -- Re-checked per batch, so a stop takes effect even in the middle of a long tick.
         AND COALESCE((SELECT enabled FROM scheduler_state WHERE id = 1), true)
       ORDER BY s.next_run_at
       LIMIT ${limit}
         FOR UPDATE OF s SKIP LOCKED`,
  // Locked so a worker claiming one of these runs waits for this transaction (and sees it canceled).
  activeRuns: (db: Db, scheduleIds: string[]) =>
    db.$queryRaw<ActiveRun[]>`
      SELECT id, schedule_id AS "scheduleId"
        FROM job_runs
       WHERE schedule_id = ANY(${scheduleIds}::uuid[]) AND status IN ('queued', 'running')
         FOR UPDATE`,
  advance: (db: Db, ids: string[], nexts: (string | null)[], lasts: (string | null)[]) =>
    db.$executeRaw`
      UPDATE schedules AS s SET next_run_at = v.next, last_run_at = COALESCE(v.last, s.last_run_at)
        FROM unnest(${ids}::uuid[], ${nexts}::timestamptz[], ${lasts}::timestamptz[]) AS v(id, next, last)
       WHERE s.id = v.id`,
  earliestNext: (db: Db) => db.$queryRaw<{ next: Date | null }[]>`SELECT min(next_run_at) AS next FROM schedules WHERE enabled`,
};

const DEFINITION_CACHE_SIZE = 500;

/**
 * Starts the schedule loop; resolves once the LISTEN connection is up (or after 5 s without it:
 * the loop then still runs, polling every maxSleepMs, while the connection keeps retrying).
 */
export async function startScheduler(options: SchedulerOptions): Promise<Scheduler> {
  const { prisma, boss } = options;
  const clock = options.clock ?? systemClock;
  const log = options.logger.child({ component: "scheduler" });
  const batchSize = options.batchSize ?? SCHEDULER_DEFAULTS.batchSize;
  const maxSleepMs = options.maxSleepMs ?? SCHEDULER_DEFAULTS.maxSleepMs;
  const limits = {
    misfireToleranceMs: options.misfireToleranceMs ?? SCHEDULER_DEFAULTS.misfireToleranceMs,
    maxRunsPerTick: options.maxRunsPerTick ?? SCHEDULER_DEFAULTS.maxRunsPerTick,
  };

  const state: SchedulerStatus = {
    running: true,
    enabled: null,
    listening: false,
    ticks: 0,
    lastTickAt: null,
    lastLagMs: null,
    sleepingUntil: null,
    runsCreated: 0,
    duplicateFires: 0,
    lastError: null,
  };
  let wakeRequested = false;
  let sleeper: AbortController | undefined;
  const wake = () => {
    wakeRequested = true;
    sleeper?.abort();
  };

  const warned = new Map<string, number>();
  const warnOnce = (key: string, fields: Record<string, unknown>, message: string, level: "warn" | "info" = "warn") => {
    const now = clock.now().getTime();
    const last = warned.get(key);
    if (last !== undefined && now - last < REPEAT_WARNING_MS) return;
    warned.set(key, now);
    log[level](fields, message);
  };

  const definitions = new Map<string, JobDefinition | string>();
  async function loadDefinitions(tx: Db, versionIds: string[]) {
    const missing = versionIds.filter((id) => !definitions.has(id));
    if (missing.length === 0) return;
    const rows = await tx.jobVersion.findMany({ where: { id: { in: missing } }, select: { id: true, definition: true } });
    for (const row of rows) {
      // Versions are immutable, so a parsed definition never goes stale.
      if (definitions.size >= DEFINITION_CACHE_SIZE) definitions.delete(definitions.keys().next().value!);
      try {
        definitions.set(row.id, parseJobDefinition(row.definition));
      } catch (error) {
        definitions.set(row.id, `the job version's definition does not pass validation: ${(error as Error).message}`);
      }
    }
  }

  function resolve(schedule: DueSchedule): Resolved {
    if (!schedule.jobActive) return { ok: false, reason: "the job is inactive" };
    const definition = schedule.jobVersionId ? definitions.get(schedule.jobVersionId) : undefined;
    if (definition === undefined) return { ok: false, reason: "the job has no current version" };
    if (typeof definition === "string") return { ok: false, reason: definition };
    const supplied = schedule.parameters && typeof schedule.parameters === "object" && !Array.isArray(schedule.parameters) ? schedule.parameters : {};
    let resolved;
    try {
      resolved = resolveParameters(definition, supplied);
    } catch (error) {
      if (error instanceof ParameterError) return { ok: false, reason: `its parameters do not fit the job's current version: ${error.issues.map((i) => i.message).join("; ")}` };
      throw error;
    }
    const parameters = prepareRunParameters(resolved);
    if (Object.keys(parameters.secrets).length > 0 && !options.sealSecrets) return { ok: false, reason: "its job takes secret parameters and this worker has no key to seal them" };
    return { ok: true, parameters };
  }

  /** Fills next_run_at where the web app left it empty (a new, edited or re-enabled schedule). */
  async function fillMissingNext(now: Date) {
    let afterId = "00000000-0000-0000-0000-000000000000";
    for (;;) {
      const rows = await sql.missingNext(prisma, afterId, batchSize);
      const ids: string[] = [];
      const nexts: string[] = [];
      for (const row of rows) {
        const problem = validateCron(row.cron, row.timezone);
        if (problem) {
          warnOnce(`${row.id}:invalid`, { scheduleId: row.id, cron: row.cron, timezone: row.timezone }, `schedule cannot fire: ${problem.path} ${problem.message}`);
          continue;
        }
        ids.push(row.id);
        nexts.push(nextInstant(row.cron, row.timezone, now).toISOString());
      }
      if (ids.length > 0) await sql.fillNext(prisma, ids, nexts);
      if (rows.length < batchSize) return;
      afterId = rows.at(-1)!.id;
    }
  }

  /**
   * Claims and fires one batch of due schedules in one transaction. `more` says due schedules may
   * remain: a full batch, or one that stopped at maxRunsPerTick runs (the rest stay due, untouched).
   */
  function claimBatch(now: Date): Promise<{ more: boolean; lagMs: number }> {
    return prisma.$transaction(
      async (tx) => {
        const due = await sql.claimDue(tx, now, batchSize);
        if (due.length === 0) return { more: false, lagMs: 0 };
        const watched = due.filter((s) => s.overlapPolicy === "skip" || s.overlapPolicy === "cancel_previous").map((s) => s.id);
        const active = watched.length > 0 ? await sql.activeRuns(tx, watched) : [];
        await loadDefinitions(tx, [...new Set(due.flatMap((s) => (s.jobVersionId ? [s.jobVersionId] : [])))]);
        const ids: string[] = [];
        const nexts: (string | null)[] = [];
        const toFire: { at: number; instant: Date; input: RequestRunInput }[] = [];
        let lagMs = 0;
        let runsInBatch = 0;
        for (const schedule of due) {
          if (runsInBatch >= limits.maxRunsPerTick) break;
          lagMs = Math.max(lagMs, now.getTime() - schedule.nextRunAt.getTime());
          const fields = { scheduleId: schedule.id, jobId: schedule.jobId };
          ids.push(schedule.id);
          let plan: FiringPlan;
          try {
            plan = planFirings(schedule, now, limits);
          } catch (error) {
            // Stored before validation existed, or a time zone this runtime lacks: park it (next_run_at NULL).
            warnOnce(`${schedule.id}:invalid`, { ...fields, cron: schedule.cron, timezone: schedule.timezone, err: error }, "schedule cannot fire: its cron expression or time zone is invalid");
            nexts.push(null);
            continue;
          }
          nexts.push(plan.next.toISOString());
          let fire = plan.instants;
          if (plan.misfire) {
            log.info({ ...fields, policy: schedule.misfirePolicy, missedSince: schedule.nextRunAt, firing: fire.length }, "schedule missed its time; applying its misfire policy");
          }
          const mine = active.filter((r) => r.scheduleId === schedule.id);
          if (fire.length > 0 && schedule.overlapPolicy === "skip") {
            // One run at a time: the later instants of a catch-up would overlap the first.
            if (mine.length > 0) {
              log.info({ ...fields, activeRunIds: mine.map((r) => r.id), skipped: fire.length }, "previous run still active; skipping this firing (overlap policy skip)");
              fire = [];
            } else fire = fire.slice(-1);
          }
          let resolved: Resolved | undefined;
          if (fire.length > 0) {
            resolved = resolve(schedule);
            if (!resolved.ok) {
              // A deactivated job is the operator's choice, not a fault.
              warnOnce(`${schedule.id}:unfit`, fields, `schedule did not fire: ${resolved.reason}`, schedule.jobActive ? "warn" : "info");
              fire = [];
            }
          }
          if (fire.length > 0 && schedule.overlapPolicy === "cancel_previous") {
            if (mine.length > 0) {
              log.info({ ...fields, canceledRunIds: mine.map((r) => r.id) }, "canceling the previous run (overlap policy cancel_previous)");
              for (const run of mine) await cancelRun(tx, run.id, now);
            }
            fire = fire.slice(-1);
          }
          for (const instant of fire) {
            const ready = resolved as Extract<Resolved, { ok: true }>;
            toFire.push({
              at: ids.length - 1,
              instant,
              input: {
                jobId: schedule.jobId,
                jobVersionId: schedule.jobVersionId!,
                parameters: ready.parameters,
                trigger: "schedule",
                scheduleId: schedule.id,
                idempotencyKey: scheduledRunKey(schedule.id, instant),
              },
            });
          }
          runsInBatch += fire.length;
        }
        // All runs of the batch at once: per-run inserts made the lag grow with the batch (bench/scheduler.ts).
        const results = await requestRuns(tx, boss, toFire.map((f) => f.input), options.sealSecrets);
        const lasts: (string | null)[] = ids.map(() => null);
        toFire.forEach(({ at, instant, input }, i) => {
          const fields = { scheduleId: input.scheduleId, jobId: input.jobId, instant };
          if (results[i]!.created) {
            state.runsCreated++;
            lasts[at] = now.toISOString();
            log.debug({ ...fields, runId: results[i]!.id }, "schedule fired");
          } else {
            state.duplicateFires++;
            log.warn(fields, "this instant had already fired; no second run created");
          }
        });
        await sql.advance(tx, ids, nexts, lasts);
        return { more: due.length === batchSize || ids.length < due.length, lagMs };
      },
      { maxWait: 10_000, timeout: 120_000 },
    );
  }

  /** One pass: fire what is due; returns how long to sleep. */
  async function tick(): Promise<number> {
    const started = clock.now();
    const [row] = await sql.state(prisma);
    state.enabled = row?.enabled ?? true;
    let lagMs: number | null = null;
    if (state.enabled) {
      await fillMissingNext(started);
      lagMs = 0;
      while (state.running) {
        const batch = await claimBatch(clock.now());
        lagMs = Math.max(lagMs, batch.lagMs);
        if (!batch.more) break;
      }
    }
    await sql.recordTick(prisma, started, lagMs);
    state.ticks++;
    state.lastTickAt = started;
    if (lagMs !== null) state.lastLagMs = lagMs;
    if (!state.enabled) return maxSleepMs;
    const [earliest] = await sql.earliestNext(prisma);
    if (!earliest?.next) return maxSleepMs;
    const delay = earliest.next.getTime() - clock.now().getTime();
    return delay <= 0 ? PEER_BUSY_SLEEP_MS : Math.min(delay, maxSleepMs);
  }

  let failures = 0;
  async function loop() {
    while (state.running) {
      wakeRequested = false;
      let delay: number;
      try {
        delay = await tick();
        failures = 0;
        state.lastError = null;
      } catch (error) {
        failures++;
        delay = Math.min(30_000, 1000 * 2 ** Math.min(failures - 1, 5));
        state.lastError = (error as Error).message;
        log.error({ err: error, retryInMs: delay }, "scheduler tick failed");
      }
      if (!state.running) break;
      if (wakeRequested && failures === 0) continue;
      sleeper = new AbortController();
      state.sleepingUntil = new Date(clock.now().getTime() + delay);
      await clock.sleep(delay, sleeper.signal);
      sleeper = undefined;
      state.sleepingUntil = null;
    }
  }

  let connected!: () => void;
  const firstConnection = new Promise<void>((resolve) => (connected = resolve));
  const listener = listen({
    databaseUrl: options.databaseUrl,
    channels: [SCHEDULES_CHANNEL],
    logger: log,
    onNotification: () => wake(),
    // Notices sent while the connection was down are lost: look again.
    onConnected: () => {
      state.listening = true;
      connected();
      wake();
    },
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([firstConnection, new Promise<void>((resolve) => (timer = setTimeout(resolve, 5_000)))]);
  clearTimeout(timer);
  if (!state.listening) log.warn("LISTEN connection not up yet; polling every maxSleepMs until it is");

  const looping = loop();
  log.info({ batchSize, maxSleepMs, misfireToleranceMs: limits.misfireToleranceMs }, "scheduler started");

  let stopping: Promise<void> | undefined;
  return {
    status: () => ({ ...state }),
    wake,
    stop() {
      stopping ??= (async () => {
        state.running = false;
        sleeper?.abort();
        await looping;
        await listener.close();
        state.listening = false;
        log.info("scheduler stopped");
      })();
      return stopping;
    },
  };
}
