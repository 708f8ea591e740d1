// A job's finished runs bucketed over time, for the job page's charts: success rate and the
// p50/p95 of run durations, computed in PostgreSQL (percentile_cont) so the page reads one row
// per bucket however many runs there are.
import type { Db } from "@opsconductor/db";

/** The window a job's charts cover: 30 days by day, or 48 hours by hour. */
export type RunStatsRange = "month" | "twoDays";

/** One bucket of a job's finished runs; the rate and the percentiles are null when no run finished in it. */
export interface RunStatsBucket {
  at: Date;
  succeeded: number;
  failed: number;
  /** Succeeded / (succeeded + failed + timed out), 0..1; canceled runs do not count. */
  successRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** Finished runs of `jobId` per day (last 30 days) or per hour (last 48 hours), oldest bucket first, empty buckets included. */
export async function jobRunStats(db: Db, jobId: string, range: RunStatsRange = "month", now = new Date()): Promise<RunStatsBucket[]> {
  const unit = range === "month" ? "day" : "hour";
  const count = range === "month" ? 30 : 48;
  const rows = await db.$queryRaw<{ at: Date; succeeded: number; failed: number; p50: number | null; p95: number | null }[]>`
    WITH buckets AS (
      SELECT generate_series(date_trunc(${unit}, ${now}::timestamptz) - (${count - 1} * ('1 ' || ${unit})::interval), date_trunc(${unit}, ${now}::timestamptz), ('1 ' || ${unit})::interval) AS at
    ), runs AS (
      SELECT date_trunc(${unit}, finished_at) AS at, status, EXTRACT(EPOCH FROM (finished_at - COALESCE(started_at, queued_at))) * 1000 AS ms
      FROM job_runs
      WHERE job_id = ${jobId}::uuid AND finished_at IS NOT NULL AND status IN ('succeeded', 'failed', 'timed_out')
        AND finished_at >= date_trunc(${unit}, ${now}::timestamptz) - (${count - 1} * ('1 ' || ${unit})::interval)
    )
    SELECT b.at,
      count(r.status) FILTER (WHERE r.status = 'succeeded')::int AS succeeded,
      count(r.status) FILTER (WHERE r.status <> 'succeeded')::int AS failed,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY r.ms)::float8 AS p50,
      percentile_cont(0.95) WITHIN GROUP (ORDER BY r.ms)::float8 AS p95
    FROM buckets b LEFT JOIN runs r ON r.at = b.at
    GROUP BY b.at ORDER BY b.at`;
  return rows.map((r) => {
    const total = r.succeeded + r.failed;
    return { at: r.at, succeeded: r.succeeded, failed: r.failed, successRate: total === 0 ? null : r.succeeded / total, p50Ms: r.p50 === null ? null : Math.round(r.p50), p95Ms: r.p95 === null ? null : Math.round(r.p95) };
  });
}
