-- AlterTable
ALTER TABLE "retention_state" ADD COLUMN "last_holder" TEXT,
ADD COLUMN "policy_run_days" INTEGER,
ADD COLUMN "policy_run_count" INTEGER,
ADD COLUMN "policy_output_days" INTEGER,
ADD COLUMN "policy_interval_sec" INTEGER,
ADD COLUMN "policy_queue_job_days" DOUBLE PRECISION,
ADD COLUMN "policy_holder" TEXT,
ADD COLUMN "policy_reported_at" TIMESTAMPTZ(3);
