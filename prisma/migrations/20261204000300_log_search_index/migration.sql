-- Search across one run's log (GET /api/runs/{id}/log/search) without reading all of its text:
-- a trigram index over each chunk's text, keyed by run first, finds the chunks of one run that may
-- contain the query; a partial index lists the chunks holding ANSI escape codes (letters of a match
-- may sit between codes, so those chunks are always checked). apps/web/app/services/runs/log.server.ts
-- checks the candidates' lines exactly (bench/million-runs.ts: a 200,000-line run's search reads one
-- chunk instead of 2,500).
--
-- REQUIRES the pg_trgm and btree_gin extensions, both part of PostgreSQL's contrib modules (Debian/Ubuntu
-- ship them in the postgresql package, Red Hat in postgresql-contrib; managed services such as RDS,
-- Cloud SQL and Azure include them). Both are trusted extensions: the migrating role needs CREATE on
-- the database, not superuser. See docs/operations.md.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

-- CreateIndex
CREATE INDEX "run_output_chunks_search_idx" ON "run_output_chunks" USING gin ("run_id", "text" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "run_output_chunks_ansi_idx" ON "run_output_chunks" ("run_id", "sequence") WHERE strpos("text", E'\x1b') > 0;
