// The metrics history in PostgreSQL (metric_rollups, one row per UTC minute), so the UI can chart
// runs, queue depth, scheduler lag and step durations with no Prometheus installed. Run counts and
// step percentiles are recomputed from job_runs / job_run_steps each time, so any number of workers
// may write the same minutes and agree; queue depth and lag are samples merged with GREATEST.
import type { Db } from "../database/client.ts";

/** How many days of rollups are kept unless configured otherwise (METRICS_RETENTION_DAYS). */
export const DEFAULT_METRICS_RETENTION_DAYS = 14;

/** One minute of the history. */
export interface MetricRollupRow {
  minute: Date;
  runsStarted: number;
  runsSucceeded: number;
  runsFailed: number;
  queueDepth: number | null;
  schedulerLagMs: number | null;
  stepP95Ms: number | null;
}

/**
 * Recomputes the run counts and the p95 step duration of every minute from `from` to `to` (both
 * rounded down to the minute, both included) from the runs tables, writing a row for each minute,
 * zeros included. Idempotent: writing the same minutes again, from any worker, gives the same rows.
 */
export async function writeMetricRollups(db: Db, range: { from: Date; to: Date }): Promise<number> {
  return db.$executeRaw`
    WITH bounds AS (
      SELECT date_trunc('minute', ${range.from}::timestamptz) AS lo, date_trunc('minute', ${range.to}::timestamptz) + interval '1 minute' AS hi
    ), minutes AS (
      SELECT generate_series(lo, hi - interval '1 minute', interval '1 minute') AS minute FROM bounds
    ), started AS (
      SELECT date_trunc('minute', r.started_at) AS minute, count(*)::int AS n
        FROM job_runs r, bounds b WHERE r.started_at >= b.lo AND r.started_at < b.hi GROUP BY 1
    ), finished AS (
      SELECT date_trunc('minute', r.finished_at) AS minute,
             (count(*) FILTER (WHERE r.status = 'succeeded'))::int AS ok,
             (count(*) FILTER (WHERE r.status IN ('failed', 'timed_out')))::int AS bad
        FROM job_runs r, bounds b WHERE r.finished_at >= b.lo AND r.finished_at < b.hi GROUP BY 1
    ), steps AS (
      SELECT date_trunc('minute', s.finished_at) AS minute,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM s.finished_at - s.started_at) * 1000) AS p95
        FROM job_run_steps s, bounds b
       WHERE s.finished_at >= b.lo AND s.finished_at < b.hi AND s.started_at IS NOT NULL GROUP BY 1
    )
    INSERT INTO metric_rollups (minute, runs_started, runs_succeeded, runs_failed, step_p95_ms, updated_at)
    SELECT m.minute, coalesce(st.n, 0), coalesce(f.ok, 0), coalesce(f.bad, 0), round(sp.p95)::int, now()
      FROM minutes m
      LEFT JOIN started st ON st.minute = m.minute
      LEFT JOIN finished f ON f.minute = m.minute
      LEFT JOIN steps sp ON sp.minute = m.minute
    ON CONFLICT (minute) DO UPDATE SET
      runs_started = EXCLUDED.runs_started, runs_succeeded = EXCLUDED.runs_succeeded, runs_failed = EXCLUDED.runs_failed,
      step_p95_ms = EXCLUDED.step_p95_ms, updated_at = now()`;
}

/**
 * Records a sample of the queue depth and the scheduler's lag in the minute `at` (the database's
 * now by default); several workers' samples of one minute merge into the largest of each.
 */
export async function recordMetricSample(db: Db, sample: { queueDepth: number | null; schedulerLagMs: number | null; at?: Date }): Promise<void> {
  const at = sample.at ?? null;
  await db.$executeRaw`
    INSERT INTO metric_rollups (minute, queue_depth, scheduler_lag_ms, updated_at)
    VALUES (date_trunc('minute', coalesce(${at}::timestamptz, now())), ${sample.queueDepth}::int, ${sample.schedulerLagMs}::int, now())
    ON CONFLICT (minute) DO UPDATE SET
      queue_depth = GREATEST(metric_rollups.queue_depth, EXCLUDED.queue_depth),
      scheduler_lag_ms = GREATEST(metric_rollups.scheduler_lag_ms, EXCLUDED.scheduler_lag_ms),
      updated_at = now()`;
}

/** Deletes the rollups older than `retentionDays` (by the database's clock); answers how many went. */
export async function pruneMetricRollups(db: Db, retentionDays: number, now?: Date): Promise<number> {
  return db.$executeRaw`DELETE FROM metric_rollups WHERE minute < coalesce(${now ?? null}::timestamptz, now()) - make_interval(days => ${retentionDays}::int)`;
}

/** The rollups of minutes from `from` to `to` (inclusive), oldest first. */
export async function listMetricRollups(db: Db, range: { from: Date; to: Date }): Promise<MetricRollupRow[]> {
  const rows = await db.metricRollup.findMany({ where: { minute: { gte: range.from, lte: range.to } }, orderBy: { minute: "asc" } });
  return rows.map(({ updatedAt: _updatedAt, ...row }) => row);
}

/** The windows the UI charts, each with the width of one point. */
export const METRIC_RANGES = Object.freeze({
  hour: { seconds: 3600, bucketSec: 60 },
  day: { seconds: 24 * 3600, bucketSec: 15 * 60 },
  week: { seconds: 7 * 24 * 3600, bucketSec: 3600 },
} as const);
export type MetricRange = keyof typeof METRIC_RANGES;

/** One point of a chart: sums of the run counts and the largest sample/p95 over its minutes. */
export interface MetricPoint {
  /** Start of the bucket. */
  at: Date;
  runsStarted: number;
  runsSucceeded: number;
  runsFailed: number;
  queueDepth: number | null;
  schedulerLagMs: number | null;
  stepP95Ms: number | null;
}

/**
 * The history over the last hour, day or week ending at `now` (the database's clock by default),
 * one point per bucket, empty buckets included (counts 0, samples null). A bucket's p95 is the
 * largest per-minute p95 in it: an upper bound, as percentiles do not add up.
 */
export async function metricHistory(db: Db, range: MetricRange, now?: Date): Promise<{ range: MetricRange; bucketSec: number; points: MetricPoint[] }> {
  const { seconds, bucketSec } = METRIC_RANGES[range];
  const rows = await db.$queryRaw<{ at: Date; started: number; ok: number; bad: number; depth: number | null; lag: number | null; p95: number | null }[]>`
    WITH bounds AS (
      SELECT to_timestamp(floor(extract(epoch FROM coalesce(${now ?? null}::timestamptz, now())) / ${bucketSec}::int) * ${bucketSec}::int) AS last
    ), buckets AS (
      SELECT generate_series(last - make_interval(secs => ${seconds - bucketSec}::int), last, make_interval(secs => ${bucketSec}::int)) AS at FROM bounds
    ), agg AS (
      SELECT to_timestamp(floor(extract(epoch FROM minute) / ${bucketSec}::int) * ${bucketSec}::int) AS at,
             sum(runs_started)::int AS started, sum(runs_succeeded)::int AS ok, sum(runs_failed)::int AS bad,
             max(queue_depth) AS depth, max(scheduler_lag_ms) AS lag, max(step_p95_ms) AS p95
        FROM metric_rollups, bounds
       WHERE minute >= last - make_interval(secs => ${seconds - bucketSec}::int) AND minute < last + make_interval(secs => ${bucketSec}::int)
       GROUP BY 1
    )
    SELECT b.at, coalesce(a.started, 0) AS started, coalesce(a.ok, 0) AS ok, coalesce(a.bad, 0) AS bad, a.depth, a.lag, a.p95
      FROM buckets b LEFT JOIN agg a ON a.at = b.at ORDER BY b.at`;
  return {
    range,
    bucketSec,
    points: rows.map((r) => ({ at: r.at, runsStarted: r.started, runsSucceeded: r.ok, runsFailed: r.bad, queueDepth: r.depth, schedulerLagMs: r.lag, stepP95Ms: r.p95 })),
  };
}
