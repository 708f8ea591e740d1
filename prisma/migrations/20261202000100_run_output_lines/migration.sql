-- CreateTable
CREATE TABLE "run_output_lines" (
    "run_id" UUID NOT NULL,
    "sequence" INTEGER NOT NULL,
    "step_id" UUID,
    "first_line" INTEGER NOT NULL,
    "last_line" INTEGER NOT NULL,
    "continues" BOOLEAN NOT NULL,
    "step_start" BOOLEAN NOT NULL,
    "marker" BOOLEAN NOT NULL,

    CONSTRAINT "run_output_lines_pkey" PRIMARY KEY ("run_id","sequence")
);

-- CreateIndex
CREATE INDEX "run_output_lines_run_id_first_line_idx" ON "run_output_lines"("run_id", "first_line");

-- CreateIndex
CREATE INDEX "run_output_lines_run_id_last_line_idx" ON "run_output_lines"("run_id", "last_line");

-- AddForeignKey
ALTER TABLE "run_output_lines" ADD CONSTRAINT "run_output_lines_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "job_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
