-- CreateTable
CREATE TABLE "metric_rollups" (
    "minute" TIMESTAMPTZ(0) NOT NULL,
    "runs_started" INTEGER NOT NULL DEFAULT 0,
    "runs_succeeded" INTEGER NOT NULL DEFAULT 0,
    "runs_failed" INTEGER NOT NULL DEFAULT 0,
    "queue_depth" INTEGER,
    "scheduler_lag_ms" INTEGER,
    "step_p95_ms" INTEGER,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "metric_rollups_pkey" PRIMARY KEY ("minute")
);

-- CreateIndex
CREATE INDEX "job_runs_started_at_idx" ON "job_runs"("started_at");

-- CreateIndex
CREATE INDEX "job_runs_finished_at_idx" ON "job_runs"("finished_at");

-- CreateIndex
CREATE INDEX "job_run_steps_finished_at_idx" ON "job_run_steps"("finished_at");
