// The schedule form's fields as posted by the browser, checked in both places with core's cron
// rules. Browser-safe.
import { validateCron } from "@opsconductor/core/schema";
import { z } from "zod";
import { MISFIRE_POLICIES, OVERLAP_POLICIES } from "../../schemas/schedules.ts";

const upper = (message: string) => message.charAt(0).toUpperCase() + message.slice(1);

/** The create/edit form; `jobId` only when creating. */
export const scheduleForm = z
  .object({
    intent: z.literal("save"),
    jobId: z.uuid({ error: "Pick a job." }).optional(),
    name: z.string().trim().max(200).optional(),
    cron: z.string({ error: "Enter a cron expression, such as 0 3 * * *." }).trim().min(1).max(200),
    timezone: z.string({ error: "Enter a time zone, such as Europe/London or UTC." }).trim().min(1).max(100),
    enabled: z.boolean().default(false),
    misfirePolicy: z.enum(MISFIRE_POLICIES),
    overlapPolicy: z.enum(OVERLAP_POLICIES),
    misfireMaxAgeSec: z.number({ error: "Enter a number of seconds." }).int().min(1).max(30 * 24 * 3600),
    parameters: z.record(z.string(), z.string()).default({}),
  })
  .superRefine((value, ctx) => {
    const problem = validateCron(value.cron, value.timezone);
    if (problem) ctx.addIssue({ code: "custom", path: [problem.path], message: upper(problem.message) });
  });

export type ScheduleFormValue = z.infer<typeof scheduleForm>;

/** The typed parameters to store: empty fields left out so the job's defaults apply. */
export function storedParameters(parameters: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(parameters).filter(([, v]) => v !== ""));
}
