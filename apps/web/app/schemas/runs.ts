// Queries of runs, their steps and their live events. Browser-safe.
import { RunStatus, RunTrigger } from "@opsconductor/db/enums";
import { z } from "zod";
import { sortQuery } from "../lib/sort.ts";
import { formDateTime, INT4_MIN, isoDateTime, pageQuery, wholeNumber } from "./common.ts";

export const RUN_STATUSES = Object.values(RunStatus);
export const RUN_TRIGGERS = Object.values(RunTrigger);


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
    target: z.uuid({ error: "must be a target id (UUID)" }).optional().describe("Only runs with a step on this target"),
    from: isoDateTime.optional().describe("Only runs queued at or after this instant"),
    to: isoDateTime.optional().describe("Only runs queued before this instant"),
  })
  .superRefine((query, ctx) => {
    if (query.from && query.to && Date.parse(query.to) <= Date.parse(query.from)) ctx.addIssue({ code: "custom", path: ["to"], message: "must be later than query.from" });
  });


/** Query of the Runs page: the API's filters (one status), times from datetime-local fields read as UTC, and the order. */
export const runHistoryQuery = pageQuery
  .extend({
    job: z.uuid({ error: "must be a job id (UUID)" }).optional(),
    status: z.enum(RUN_STATUSES, { error: `must be one of ${RUN_STATUSES.join(", ")}` }).optional(),
    trigger: z.enum(RUN_TRIGGERS, { error: `must be one of ${RUN_TRIGGERS.join(", ")}` }).optional(),
    target: z.uuid({ error: "must be a target id (UUID)" }).optional(),
    from: formDateTime.optional(),
    to: formDateTime.optional(),
    sort: sortQuery(["queuedAt"], { key: "queuedAt", direction: "desc" }),
  })
  .superRefine((query, ctx) => {
    if (query.from && query.to && Date.parse(query.to) <= Date.parse(query.from)) ctx.addIssue({ code: "custom", path: ["to"], message: "must be later than from" });
  });
export type RunHistoryQuery = z.infer<typeof runHistoryQuery>;

/** Query of GET /api/runs/{id}/steps. */
export const runStepsQuery = z.object({
  afterSequence: wholeNumber(INT4_MIN).optional().describe("Only output with a greater sequence (the lastSequence of the previous answer)"),
});

/** Query of GET /api/runs/{id}/events. */
export const runEventsQuery = z.object({ lastEventId: wholeNumber(INT4_MIN).optional().describe("Resume after this output sequence (the Last-Event-ID header wins)") });

/** The most lines one GET /api/runs/{id}/log answer carries. */
export const MAX_LOG_LINES = 1000;

/** Query of GET /api/runs/{id}/log: a range of the log's lines. */
export const runLogQuery = z.object({
  from: wholeNumber(1).default(1).describe("Number of the first line (lines are numbered from 1 across the run)"),
  count: wholeNumber(1, MAX_LOG_LINES).default(200).describe(`How many lines, at most ${MAX_LOG_LINES}`),
});

/** The most matching line numbers one GET /api/runs/{id}/log/search answer lists. */
export const MAX_SEARCH_MATCHES = 10_000;

/** Query of GET /api/runs/{id}/log/search. */
export const runLogSearchQuery = z
  .object({
    q: z
      .string({ error: "must be the text to search for" })
      .min(1, "must be the text to search for")
      .max(200, "must be at most 200 characters")
      .refine((q) => !/[\r\n]/.test(q), "must be one line of text")
      .describe("Text to find: a line matches when its visible text (colour codes left out) contains it, ASCII letters compared without regard to case"),
    after: wholeNumber(0).optional().describe("List only matching lines after this line number"),
    before: wholeNumber(1).optional().describe("List only matching lines before this line number (the last ones before it)"),
    limit: wholeNumber(1, MAX_SEARCH_MATCHES).default(1000).describe(`How many matching line numbers to list, at most ${MAX_SEARCH_MATCHES}`),
  })
  .superRefine((query, ctx) => {
    if (query.after !== undefined && query.before !== undefined) ctx.addIssue({ code: "custom", path: ["before"], message: "cannot be combined with query.after" });
  });

export type RunListQuery = z.infer<typeof runListQuery>;
export type RunLogSearchQuery = z.infer<typeof runLogSearchQuery>;
