// Request schemas of cron schedules. Browser-safe.
import { MisfirePolicy, OverlapPolicy } from "@opsconductor/db/enums";
import { z } from "zod";
import { booleanQuery, pageQuery } from "./common.ts";

export const MISFIRE_POLICIES = Object.values(MisfirePolicy);
export const OVERLAP_POLICIES = Object.values(OverlapPolicy);

const fields = {
  name: z.string().trim().min(1).max(200).nullable(),
  cron: z.string().trim().min(1, "must not be empty").max(200),
  timezone: z.string().trim().min(1, "must not be empty").max(100),
  parameters: z.record(z.string(), z.unknown()),
  enabled: z.boolean(),
  misfirePolicy: z.enum(MISFIRE_POLICIES),
  overlapPolicy: z.enum(OVERLAP_POLICIES),
  misfireMaxAgeSec: z.number().int().min(1).max(30 * 24 * 3600),
};

/** Body of POST /api/schedules. */
export const createScheduleBody = z.strictObject({
  jobId: z.uuid({ error: "must be a job id (UUID)" }),
  name: fields.name.optional(),
  cron: fields.cron,
  timezone: fields.timezone.default("UTC"),
  parameters: fields.parameters.default({}),
  enabled: fields.enabled.default(true),
  misfirePolicy: fields.misfirePolicy.default("fire_once"),
  overlapPolicy: fields.overlapPolicy.default("skip"),
  misfireMaxAgeSec: fields.misfireMaxAgeSec.default(3600),
});

/** Body of PATCH /api/schedules/{id}: any of the fields; the job cannot change. */
export const updateScheduleBody = z.strictObject({
  name: fields.name.optional(),
  cron: fields.cron.optional(),
  timezone: fields.timezone.optional(),
  parameters: fields.parameters.optional(),
  enabled: fields.enabled.optional(),
  misfirePolicy: fields.misfirePolicy.optional(),
  overlapPolicy: fields.overlapPolicy.optional(),
  misfireMaxAgeSec: fields.misfireMaxAgeSec.optional(),
});

/** Query of GET /api/schedules. */
export const scheduleListQuery = pageQuery.extend({ jobId: z.uuid({ error: "must be a job id (UUID)" }).optional(), enabled: booleanQuery.optional() });

export type CreateSchedule = z.infer<typeof createScheduleBody>;
export type UpdateSchedule = z.infer<typeof updateScheduleBody>;
export type ScheduleListQuery = z.infer<typeof scheduleListQuery>;
