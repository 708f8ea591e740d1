import type { SubmissionResult } from "@conform-to/react";
import type { MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { ScheduleForm } from "../components/schedules/schedule-form.tsx";
import { scheduleForm, storedParameters } from "../components/schedules/schedule-form-schema.ts";
import { buttonClass } from "../components/ui/button.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { Toast } from "../components/ui/toast.tsx";
import { pageAction, pageLoader, pageParams, redirectWithToast } from "../http/page.server.ts";
import { idParams } from "../schemas/common.ts";
import { updateSchedule } from "../services/schedules/commands.server.ts";
import { schedulableJobs } from "../services/schedules/pages.server.ts";
import { getSchedule } from "../services/schedules/queries.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · Edit schedule" }];

export const loader = pageLoader({ permission: "schedules:write" }, async ({ db, params }) => {
  const { id } = pageParams(params, idParams);
  const schedule = await getSchedule(db, id);
  return { schedule, jobs: await schedulableJobs(db, schedule.jobId), now: new Date().toISOString() };
});

export const action = pageAction({ permission: "schedules:write", schema: scheduleForm }, async (value, { db, params, principal, audit, headers }) => {
  const { id } = pageParams(params, idParams);
  await updateSchedule(
    db,
    id,
    {
      name: value.name || null,
      cron: value.cron,
      timezone: value.timezone,
      parameters: storedParameters(value.parameters),
      enabled: value.enabled,
      misfirePolicy: value.misfirePolicy,
      overlapPolicy: value.overlapPolicy,
      misfireMaxAgeSec: value.misfireMaxAgeSec,
    },
    principal,
    audit,
  );
  return redirectWithToast(`/schedules/${id}`, "Schedule saved.", headers);
});

export default function EditSchedule() {
  const { schedule, jobs, now } = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>();
  const parameters = Object.fromEntries(Object.entries((schedule.parameters ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  return (
    <div>
      <PageHeader title={`Edit schedule: ${schedule.name ?? schedule.jobName}`} />
      <ScheduleForm
        editing
        jobs={jobs}
        now={now}
        defaultValue={{ jobId: schedule.jobId, name: schedule.name ?? "", cron: schedule.cron, timezone: schedule.timezone, enabled: schedule.enabled, misfirePolicy: schedule.misfirePolicy, overlapPolicy: schedule.overlapPolicy, misfireMaxAgeSec: schedule.misfireMaxAgeSec, parameters }}
        lastResult={answer?.result as SubmissionResult<string[]> | undefined}
        submitLabel="Save schedule"
        pendingLabel="Saving…"
        cancel={
          <Link to={`/schedules/${schedule.id}`} className={buttonClass("secondary")}>
            Cancel
          </Link>
        }
      />
      <Toast toast={answer?.toast} />
    </div>
  );
}
