-- AlterTable
ALTER TABLE "jobs" ADD COLUMN "retention_days" INTEGER,
ADD COLUMN "retention_runs" INTEGER,
ADD COLUMN "output_retention_days" INTEGER;

-- AlterTable
ALTER TABLE "job_runs" ADD COLUMN "output_pruned_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "retention_state" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "lease_until" TIMESTAMPTZ(3),
    "lease_holder" TEXT,
    "last_started_at" TIMESTAMPTZ(3),
    "last_finished_at" TIMESTAMPTZ(3),
    "last_runs" INTEGER NOT NULL DEFAULT 0,
    "last_steps" INTEGER NOT NULL DEFAULT 0,
    "last_output_rows" INTEGER NOT NULL DEFAULT 0,
    "last_output_runs" INTEGER NOT NULL DEFAULT 0,
    "last_bytes" BIGINT NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "total_runs" BIGINT NOT NULL DEFAULT 0,
    "total_output_rows" BIGINT NOT NULL DEFAULT 0,
    "total_bytes" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "retention_state_pkey" PRIMARY KEY ("id")
);
