-- AlterTable
ALTER TABLE "credentials" ADD COLUMN     "usage_policy" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- AlterTable
ALTER TABLE "targets" ADD COLUMN     "credential_approval" TEXT;

-- Existing installs keep working: each credential may go where its targets already point (their
-- host names, normalised as prisma/src/host-policy.ts compares them), and nowhere else.
UPDATE "credentials" AS c
SET "usage_policy" = bound.hosts
FROM (
  SELECT "credential_id" AS id, array_agg(DISTINCT host ORDER BY host) AS hosts
  FROM (SELECT "credential_id", rtrim(lower(btrim("hostname", '[] ')), '.') AS host FROM "targets" WHERE "credential_id" IS NOT NULL) AS t
  WHERE host <> ''
  GROUP BY "credential_id"
) AS bound
WHERE c."id" = bound.id;
