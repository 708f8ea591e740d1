// Retention's SQL: which finished runs a policy lets go, deleting them (and their output) in small
// batches, and the one row that records the last prune pass. The loop and its timer are the
// worker's (apps/worker/src/retention.ts). Every statement touches at most one batch of rows, so no
// lock is held for long and nothing rewrites a table; freed space is reused by autovacuum.
import type { Db } from "../database/client.ts";

/** The worker's defaults; a job's own fields (null: this default) override each. 0 means no limit. */
export interface RetentionPolicy {
  /** Days a finished run is kept. */
  runDays: number;
  /** Finished runs kept per job, newest first. */
  runCount: number;
  /** Days a finished run keeps its output lines; status and steps stay. */
  outputDays: number;
}

/** What one batch or one pass removed. */
export interface PruneCounts {
  runs: number;
  steps: number;
  /** Output chunk rows and their line-index rows. */
  outputRows: number;
  /** Runs whose output was dropped while the run stays. */
  outputRuns: number;
  /** Size of the removed rows (their data, not their index entries). */
  bytes: number;
}

export const NO_PRUNE: Readonly<PruneCounts> = Object.freeze({ runs: 0, steps: 0, outputRows: 0, outputRuns: 0, bytes: 0 });

const TERMINAL = "('succeeded', 'failed', 'canceled', 'timed_out')";

/**
 * Up to `limit` finished runs that a policy lets go: older than the job's days, or behind its newest
 * `count` runs. Never a queued or running run, never the newest run of a schedule (the scheduler and
 * the schedule pages read it).
 */
export async function expiredRunIds(db: Db, policy: RetentionPolicy, limit: number): Promise<string[]> {
  const rows = await db.$queryRawUnsafe<{ id: string }[]>(
    `WITH jp AS (
       SELECT j.id, COALESCE(j.retention_days, $1::int) AS days, COALESCE(j.retention_runs, $2::int) AS keep FROM jobs j
     ), cut AS (
       SELECT jp.id AS job_id,
              CASE WHEN jp.days > 0 THEN now() - make_interval(days => jp.days) END AS age_cut,
              CASE WHEN jp.keep > 0 THEN (SELECT r.queued_at FROM job_runs r WHERE r.job_id = jp.id ORDER BY r.queued_at DESC OFFSET jp.keep - 1 LIMIT 1) END AS count_cut
       FROM jp WHERE jp.days > 0 OR jp.keep > 0
     )
     SELECT e.id FROM cut CROSS JOIN LATERAL (
       SELECT r.id FROM job_runs r
       WHERE r.job_id = cut.job_id
         AND r.status IN ${TERMINAL}
         AND ((cut.age_cut IS NOT NULL AND r.queued_at < cut.age_cut AND COALESCE(r.finished_at, r.queued_at) < cut.age_cut)
           OR (cut.count_cut IS NOT NULL AND r.queued_at < cut.count_cut))
         AND (r.schedule_id IS NULL OR EXISTS (
           SELECT 1 FROM job_runs n WHERE n.schedule_id = r.schedule_id AND (n.queued_at, n.id) > (r.queued_at, r.id)))
       LIMIT $3
     ) e
     LIMIT $3`,
    policy.runDays,
    policy.runCount,
    limit,
  );
  return rows.map((r) => r.id);
}

/** Up to `limit` finished runs that still have output their job's output policy lets go. */
export async function expiredOutputRunIds(db: Db, policy: RetentionPolicy, limit: number): Promise<string[]> {
  const rows = await db.$queryRawUnsafe<{ id: string }[]>(
    `SELECT e.id FROM jobs j CROSS JOIN LATERAL (
       SELECT r.id FROM job_runs r
       WHERE r.job_id = j.id
         AND r.status IN ${TERMINAL}
         AND r.output_pruned_at IS NULL
         AND r.queued_at < now() - make_interval(days => COALESCE(j.output_retention_days, $1::int))
         AND COALESCE(r.finished_at, r.queued_at) < now() - make_interval(days => COALESCE(j.output_retention_days, $1::int))
       LIMIT $2
     ) e
     WHERE COALESCE(j.output_retention_days, $1::int) > 0
     LIMIT $2`,
    policy.outputDays,
    limit,
  );
  return rows.map((r) => r.id);
}

async function deleteSome(db: Db, sql: string, ids: string[], limit: number): Promise<{ rows: number; bytes: number }> {
  const [result] = await db.$queryRawUnsafe<{ rows: number; bytes: bigint }[]>(sql, ids, limit);
  return { rows: result?.rows ?? 0, bytes: Number(result?.bytes ?? 0) };
}

// One statement each, at most `limit` rows: a run with a million output chunks takes many short
// statements instead of one long one.
const DELETE_CHUNKS = `WITH gone AS (
  DELETE FROM run_output_chunks WHERE id IN (SELECT id FROM run_output_chunks WHERE run_id = ANY($1::uuid[]) LIMIT $2)
  RETURNING pg_column_size(run_output_chunks.*) AS size)
  SELECT count(*)::int AS rows, COALESCE(sum(size), 0)::bigint AS bytes FROM gone`;
const DELETE_LINES = `WITH gone AS (
  DELETE FROM run_output_lines WHERE (run_id, sequence) IN (SELECT run_id, sequence FROM run_output_lines WHERE run_id = ANY($1::uuid[]) LIMIT $2)
  RETURNING pg_column_size(run_output_lines.*) AS size)
  SELECT count(*)::int AS rows, COALESCE(sum(size), 0)::bigint AS bytes FROM gone`;

/** Deletes the output (chunks and line index) of `runIds`, `rowLimit` rows per statement. */
export async function deleteRunOutput(db: Db, runIds: string[], rowLimit: number): Promise<{ rows: number; bytes: number }> {
  const total = { rows: 0, bytes: 0 };
  for (const sql of [DELETE_CHUNKS, DELETE_LINES]) {
    for (;;) {
      const done = await deleteSome(db, sql, runIds, rowLimit);
      total.rows += done.rows;
      total.bytes += done.bytes;
      if (done.rows < rowLimit) break;
    }
  }
  return total;
}

/** Drops the output of `runIds` (which stay, with status and steps) and marks them. */
export async function pruneRunOutput(db: Db, runIds: string[], rowLimit: number): Promise<PruneCounts> {
  const removed = await deleteRunOutput(db, runIds, rowLimit);
  const marked = await db.$executeRawUnsafe(`UPDATE job_runs SET output_pruned_at = now() WHERE id = ANY($1::uuid[]) AND output_pruned_at IS NULL`, runIds);
  return { ...NO_PRUNE, outputRows: removed.rows, outputRuns: marked, bytes: removed.bytes };
}

/** Deletes `runIds` (finished runs only) with their steps and output. */
export async function deleteRuns(db: Db, runIds: string[], rowLimit: number): Promise<PruneCounts> {
  const output = await deleteRunOutput(db, runIds, rowLimit);
  const [steps] = await db.$queryRawUnsafe<{ rows: number; bytes: bigint }[]>(
    `WITH gone AS (DELETE FROM job_run_steps s USING job_runs r WHERE s.run_id = r.id AND r.id = ANY($1::uuid[]) AND r.status IN ${TERMINAL} RETURNING pg_column_size(s.*) AS size)
     SELECT count(*)::int AS rows, COALESCE(sum(size), 0)::bigint AS bytes FROM gone`,
    runIds,
  );
  const [runs] = await db.$queryRawUnsafe<{ rows: number; bytes: bigint }[]>(
    `WITH gone AS (DELETE FROM job_runs r WHERE r.id = ANY($1::uuid[]) AND r.status IN ${TERMINAL} RETURNING pg_column_size(r.*) AS size)
     SELECT count(*)::int AS rows, COALESCE(sum(size), 0)::bigint AS bytes FROM gone`,
    runIds,
  );
  return {
    runs: runs?.rows ?? 0,
    steps: steps?.rows ?? 0,
    outputRows: output.rows,
    outputRuns: 0,
    bytes: output.bytes + Number(steps?.bytes ?? 0) + Number(runs?.bytes ?? 0),
  };
}

/** Takes the prune lease for `holder` until `ms` from now; false while another holder's lease runs. */
export async function takePruneLease(db: Db, holder: string, ms: number): Promise<boolean> {
  const rows = await db.$queryRawUnsafe<{ id: number }[]>(
    `INSERT INTO retention_state (id, lease_until, lease_holder) VALUES (1, now() + make_interval(secs => $2::double precision / 1000), $1)
     ON CONFLICT (id) DO UPDATE SET lease_until = EXCLUDED.lease_until, lease_holder = EXCLUDED.lease_holder
     WHERE retention_state.lease_until IS NULL OR retention_state.lease_until < now() OR retention_state.lease_holder = $1
     RETURNING id`,
    holder,
    ms,
  );
  return rows.length > 0;
}

/** Records a finished pass (its counts, or its error, and the defaults it pruned with) and releases the lease. */
export async function recordPrunePass(db: Db, holder: string, pass: { startedAt: Date; counts: PruneCounts; error?: string; policy?: RetentionPolicy }): Promise<void> {
  const c = pass.counts;
  await db.$executeRawUnsafe(
    `UPDATE retention_state SET lease_until = NULL, lease_holder = NULL, last_holder = $1, last_started_at = $2::timestamptz, last_finished_at = now(),
       last_runs = $3::int, last_steps = $4::int, last_output_rows = $5::int, last_output_runs = $6::int, last_bytes = $7::bigint, last_error = $8::text,
       total_runs = total_runs + $3::int, total_output_rows = total_output_rows + $5::int, total_bytes = total_bytes + $7::bigint,
       policy_run_days = COALESCE($9::int, policy_run_days), policy_run_count = COALESCE($10::int, policy_run_count), policy_output_days = COALESCE($11::int, policy_output_days),
       policy_holder = CASE WHEN $9::int IS NULL THEN policy_holder ELSE $1 END, policy_reported_at = CASE WHEN $9::int IS NULL THEN policy_reported_at ELSE now() END
     WHERE id = 1 AND lease_holder = $1`,
    holder,
    pass.startedAt,
    c.runs,
    c.steps,
    c.outputRows,
    c.outputRuns,
    BigInt(c.bytes),
    pass.error ?? null,
    pass.policy?.runDays ?? null,
    pass.policy?.runCount ?? null,
    pass.policy?.outputDays ?? null,
  );
}

/** A worker's retention settings: the global defaults and how often it prunes. */
export interface RetentionSettings extends RetentionPolicy {
  /** Seconds between prune passes (RETENTION_INTERVAL_SEC). */
  intervalSec: number;
  /** Days pg-boss keeps a finished queue job (QUEUE_JOB_RETENTION_DAYS). */
  queueJobDays: number;
}

/**
 * Records the settings a worker prunes with, at its start: the web app cannot read a worker's
 * environment, so the system page and the job pages show the defaults from here.
 */
export async function reportRetentionSettings(db: Db, holder: string, settings: RetentionSettings): Promise<void> {
  await db.$executeRawUnsafe(
    `INSERT INTO retention_state (id, policy_run_days, policy_run_count, policy_output_days, policy_interval_sec, policy_queue_job_days, policy_holder, policy_reported_at)
     VALUES (1, $2::int, $3::int, $4::int, $5::int, $6::double precision, $1, now())
     ON CONFLICT (id) DO UPDATE SET policy_run_days = EXCLUDED.policy_run_days, policy_run_count = EXCLUDED.policy_run_count, policy_output_days = EXCLUDED.policy_output_days,
       policy_interval_sec = EXCLUDED.policy_interval_sec, policy_queue_job_days = EXCLUDED.policy_queue_job_days, policy_holder = EXCLUDED.policy_holder, policy_reported_at = EXCLUDED.policy_reported_at`,
    holder,
    settings.runDays,
    settings.runCount,
    settings.outputDays,
    settings.intervalSec,
    settings.queueJobDays,
  );
}

/** The global defaults as last reported by a worker; null before any worker reported them. */
export interface RetentionDefaultsView extends RetentionPolicy {
  /** Null when only a prune pass (which does not know its timer) reported them. */
  intervalSec: number | null;
  queueJobDays: number | null;
  reportedBy: string;
  reportedAt: Date;
}

/** The retention defaults the workers prune with, as the newest report says; null before any. */
export async function retentionDefaults(db: Db): Promise<RetentionDefaultsView | null> {
  const row = await db.retentionState.findUnique({ where: { id: 1 } });
  if (!row || row.policyRunDays === null || row.policyRunCount === null || row.policyOutputDays === null || !row.policyHolder || !row.policyReportedAt) return null;
  return {
    runDays: row.policyRunDays,
    runCount: row.policyRunCount,
    outputDays: row.policyOutputDays,
    intervalSec: row.policyIntervalSec,
    queueJobDays: row.policyQueueJobDays,
    reportedBy: row.policyHolder,
    reportedAt: row.policyReportedAt,
  };
}

/** The last prune pass, for the system page; null before the first. */
export interface PrunePassView {
  startedAt: Date;
  finishedAt: Date;
  runs: number;
  steps: number;
  outputRows: number;
  outputRuns: number;
  bytes: number;
  error: string | null;
  /** The worker that ran it (null for a pass recorded before workers named themselves). */
  holder: string | null;
  totals: { runs: number; outputRows: number; bytes: number };
}

/** The last finished prune pass and the totals since the first, or null if none has run. */
export async function lastPrunePass(db: Db): Promise<PrunePassView | null> {
  const row = await db.retentionState.findUnique({ where: { id: 1 } });
  if (!row?.lastFinishedAt || !row.lastStartedAt) return null;
  return {
    startedAt: row.lastStartedAt,
    finishedAt: row.lastFinishedAt,
    runs: row.lastRuns,
    steps: row.lastSteps,
    outputRows: row.lastOutputRows,
    outputRuns: row.lastOutputRuns,
    bytes: Number(row.lastBytes),
    error: row.lastError,
    holder: row.lastHolder,
    totals: { runs: Number(row.totalRuns), outputRows: Number(row.totalOutputRows), bytes: Number(row.totalBytes) },
  };
}

/** Adds `b` to `a`. */
export function addCounts(a: PruneCounts, b: PruneCounts): PruneCounts {
  return { runs: a.runs + b.runs, steps: a.steps + b.steps, outputRows: a.outputRows + b.outputRows, outputRuns: a.outputRuns + b.outputRuns, bytes: a.bytes + b.bytes };
}
