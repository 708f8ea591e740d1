-- CreateTable
CREATE TABLE "files" (
    "id" UUID NOT NULL,
    "name" CITEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "sha256" TEXT NOT NULL,
    "chunk_size" INTEGER NOT NULL,
    "uploaded_by_id" UUID,
    "uploaded_by_name" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "files_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "file_chunks" (
    "file_id" UUID NOT NULL,
    "index" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,

    CONSTRAINT "file_chunks_pkey" PRIMARY KEY ("file_id","index")
);

-- CreateTable
CREATE TABLE "job_version_files" (
    "job_version_id" UUID NOT NULL,
    "file_id" UUID NOT NULL,

    CONSTRAINT "job_version_files_pkey" PRIMARY KEY ("job_version_id","file_id")
);

-- CreateIndex
CREATE INDEX "files_name_created_at_idx" ON "files"("name", "created_at" DESC);

-- CreateIndex
CREATE INDEX "files_created_at_id_idx" ON "files"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "job_version_files_file_id_idx" ON "job_version_files"("file_id");

-- AddForeignKey
ALTER TABLE "files" ADD CONSTRAINT "files_uploaded_by_id_fkey" FOREIGN KEY ("uploaded_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "file_chunks" ADD CONSTRAINT "file_chunks_file_id_fkey" FOREIGN KEY ("file_id") REFERENCES "files"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job_version_files" ADD CONSTRAINT "job_version_files_job_version_id_fkey" FOREIGN KEY ("job_version_id") REFERENCES "job_versions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job_version_files" ADD CONSTRAINT "job_version_files_file_id_fkey" FOREIGN KEY ("file_id") REFERENCES "files"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Chunks are already compressed or binary data as often as not, and are read whole: keep them out
-- of TOAST compression (storage EXTERNAL) so reading a chunk costs no decompression.
ALTER TABLE "file_chunks" ALTER COLUMN "data" SET STORAGE EXTERNAL;
