// Request schemas of jobs, their versions and run requests. The definition itself is validated by
// @opsconductor/core after parsing, so that every problem is reported with its path.
import { jobDefinitionJsonSchema } from "@opsconductor/core/schema";
import { z } from "zod";
import { sortQuery } from "../lib/sort.ts";
import { booleanQuery, idParams, INT4_MAX, pageQuery, wholeNumber } from "./common.ts";

const { $schema: _schema, ...definitionJsonSchema } = jobDefinitionJsonSchema();

/** A job definition as posted (POST /api/jobs, PUT /api/jobs/{id}), documented with core's JSON Schema. */
export const jobDefinitionBody = z.record(z.string(), z.unknown()).meta({ ...definitionJsonSchema, description: "A job definition (see @opsconductor/core)." });

/** The orders a job list can be in: `?sort=name`, `?sort=-updatedAt`, `?sort=-createdAt` (the default: newest first). */
export const JOB_SORT_KEYS = ["name", "updatedAt", "createdAt"] as const;

/** Query of GET /api/jobs (and of the Jobs page). */
export const jobListQuery = pageQuery.extend({
  q: z.string().trim().min(1).max(200).optional(),
  active: booleanQuery.optional(),
  sort: sortQuery(JOB_SORT_KEYS, { key: "createdAt", direction: "desc" }),
});

const retentionLimit = (max: number, what: string) => z.number({ error: `${what}: a whole number from 0 (no limit) to ${max}, or null for the worker's default` }).int().min(0).max(max).nullable();

/** A job's retention policy (each field null: the worker's default; 0: no limit). */
export const jobRetention = z.strictObject({
  runDays: retentionLimit(36_500, "runDays").optional().meta({ description: "Days a finished run is kept" }),
  runCount: retentionLimit(100_000_000, "runCount").optional().meta({ description: "Finished runs kept, newest first" }),
  outputDays: retentionLimit(36_500, "outputDays").optional().meta({ description: "Days a finished run keeps its output lines (status and steps stay)" }),
});

/** Body of PATCH /api/jobs/{id}: whether the job is active, and/or its retention policy. */
export const jobActiveBody = z
  .strictObject({ active: z.boolean().optional(), retention: jobRetention.optional() })
  .refine((body) => body.active !== undefined || body.retention !== undefined, { path: ["active"], message: "send active, retention or both" });

export type JobRetention = z.infer<typeof jobRetention>;

/**
 * Why a job's own output days cannot go with its own run days, or null when they can: output kept
 * longer than its run would be deleted with the run anyway. 0 or null (no limit, the default) never conflicts.
 */
export function outputOutlivesRuns(runDays: number | null | undefined, outputDays: number | null | undefined): string | null {
  const run = runDays ?? 0;
  const output = outputDays ?? 0;
  return run > 0 && output > run ? `must be at most the days this job keeps its runs (${run}): a run's output goes with the run` : null;
}

const retentionField = (max: number, unit: string) => {
  const error = `must be a whole number of ${unit} from 0 (no limit) to ${max.toLocaleString("en-US")}, or empty for the global default`;
  return z.number({ error }).int({ error }).min(0, { error }).max(max, { error }).optional();
};

/** The retention form of a job's page: each field empty for the global default (stored as null), the same limits as the API. */
export const jobRetentionForm = z
  .object({ intent: z.literal("retention"), runDays: retentionField(36_500, "days"), runCount: retentionField(100_000_000, "runs"), outputDays: retentionField(36_500, "days") })
  .superRefine((value, ctx) => {
    const conflict = outputOutlivesRuns(value.runDays, value.outputDays);
    if (conflict) ctx.addIssue({ code: "custom", path: ["outputDays"], message: conflict });
  });

/** Path parameters of one version of a job. */
export const jobVersionParams = idParams.extend({ number: wholeNumber(1, INT4_MAX, "a version number") });

/** Body of POST /api/jobs/{id}/run. */
export const runRequestBody = z
  .strictObject({
    parameters: z.record(z.string(), z.unknown()).optional(),
    idempotencyKey: z.string().min(1).max(200).optional(),
  })
  .optional();

export type JobListQuery = z.infer<typeof jobListQuery>;
export type RunRequest = NonNullable<z.infer<typeof runRequestBody>>;

/** The job editor's form (/jobs/new, /jobs/{id}/edit): the definition as JSON text, checked by core on the server. */
export const jobEditorForm = z.object({
  intent: z.literal("save"),
  definition: z.string({ error: "must hold the job definition" }).min(2, "must hold the job definition").max(1024 * 1024, "is larger than 1 MiB, the most a job definition may be (as in the API)"),
});

/** Query of a job's page: the versions' page, and which two versions to compare. */
export const jobPageQuery = pageQuery.extend({
  from: wholeNumber(1, INT4_MAX, "a version number").optional(),
  to: wholeNumber(1, INT4_MAX, "a version number").optional(),
  /** The charts' window: 30 days by day (default) or 48 hours by hour. */
  chart: z.enum(["month", "twoDays"]).optional(),
});

/** The forms of a job's page, by intent: restore an old version, run, activate or deactivate, delete, set the retention. */
export const jobPageForms = z.discriminatedUnion("intent", [
  jobRetentionForm,
  z.object({ intent: z.literal("restore"), version: wholeNumber(1, INT4_MAX, "a version number") }),
  z.object({ intent: z.literal("active"), active: z.enum(["true", "false"]).transform((v) => v === "true") }),
  z.object({ intent: z.literal("delete") }),
  z.object({ intent: z.literal("run"), parameters: z.record(z.string(), z.string().max(100_000)).default({}), secrets: z.record(z.string(), z.string().max(100_000)).default({}) }),
]);
