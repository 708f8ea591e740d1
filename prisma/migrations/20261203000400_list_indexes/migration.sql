-- Run lists order by (queued_at desc, id desc): with id in the index a page is read in index order
-- (no sort, index-only in semi-joins); (run_id, target_id) answers "has a step on this target"
-- from the index alone for each candidate run (bench/million-runs.ts: ?target= 250 ms -> 14 ms).

-- DropIndex
DROP INDEX "job_runs_job_id_queued_at_idx";

-- DropIndex
DROP INDEX "job_runs_queued_at_idx";

-- DropIndex
DROP INDEX "job_runs_status_queued_at_idx";

-- DropIndex
DROP INDEX "job_runs_trigger_queued_at_idx";

-- CreateIndex
CREATE INDEX "job_runs_job_id_queued_at_id_idx" ON "job_runs"("job_id", "queued_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "job_runs_status_queued_at_id_idx" ON "job_runs"("status", "queued_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "job_runs_trigger_queued_at_id_idx" ON "job_runs"("trigger", "queued_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "job_runs_queued_at_id_idx" ON "job_runs"("queued_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "job_run_steps_run_id_target_id_idx" ON "job_run_steps"("run_id", "target_id");
