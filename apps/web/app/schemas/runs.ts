// Queries of runs, their steps and their live events. Browser-safe.
import { RunStatus, RunTrigger } from "@opsconductor/db/enums";
import { z } from "zod";
import { INT4_MIN, pageQuery, wholeNumber } from "./common.ts";

export const RUN_STATUSES = Object.values(RunStatus);
export const RUN_TRIGGERS = Object.values(RunTrigger);

const isoDateTime = z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time such as 2026-11-26T08:00:00Z" });

// `status=queued,running` and `status=queued&status=running` mean the same.
function splitList(value: unknown): unknown {
  if (value === undefined) return undefined;
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => (typeof v === "string" ? v.split(",") : [v]));
  return parts.map((p) => (typeof p === "string" ? p.trim() : p)).filter((p) => p !== "");
}

/** Query of GET /api/runs. */
export const runListQuery = pageQuery
  .extend({
    job: z.uuid({ error: "must be a job id (UUID)" }).optional(),
    status: z
      .preprocess(splitList, z.array(z.enum(RUN_STATUSES, { error: `must be one of ${RUN_STATUSES.join(", ")}` })).min(1, "must name at least one status"))
      .optional()
      .describe("One or several statuses, repeated or comma-separated"),
    trigger: z.enum(RUN_TRIGGERS, { error: `must be one of ${RUN_TRIGGERS.join(", ")}` }).optional(),
    from: isoDateTime.optional().describe("Only runs queued at or after this instant"),
    to: isoDateTime.optional().describe("Only runs queued before this instant"),
  })
  .superRefine((query, ctx) => {
    if (query.from && query.to && Date.parse(query.to) <= Date.parse(query.from)) ctx.addIssue({ code: "custom", path: ["to"], message: "must be later than query.from" });
  });

/** Query of GET /api/runs/{id}/steps. */
export const runStepsQuery = z.object({
  afterSequence: wholeNumber(INT4_MIN).optional().describe("Only output with a greater sequence (the lastSequence of the previous answer)"),
});

/** Query of GET /api/runs/{id}/events. */
export const runEventsQuery = z.object({ lastEventId: wholeNumber(INT4_MIN).optional().describe("Resume after this output sequence (the Last-Event-ID header wins)") });

export type RunListQuery = z.infer<typeof runListQuery>;
