import type { SubmissionResult } from "@conform-to/react";
import type { MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { ScheduleForm } from "../components/schedules/schedule-form.tsx";
import { scheduleForm, storedParameters } from "../components/schedules/schedule-form-schema.ts";
import { buttonClass } from "../components/ui/button.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { Toast } from "../components/ui/toast.tsx";
import { pageAction, pageLoader, redirectWithToast } from "../http/page.server.ts";
import { createSchedule } from "../services/schedules/commands.server.ts";
import { invalidField } from "../services/errors.server.ts";
import { schedulableJobs } from "../services/schedules/pages.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · New schedule" }];

export const loader = pageLoader({ permission: "schedules:write" }, async ({ db, request }) => {
  const jobId = new URL(request.url).searchParams.get("jobId") ?? "";
  return { jobs: await schedulableJobs(db), jobId, now: new Date().toISOString() };
});

export const action = pageAction({ permission: "schedules:write", schema: scheduleForm }, async (value, { db, principal, audit, headers }) => {
  if (!value.jobId) throw invalidField("body.jobId", "Pick a job.");
  const created = await createSchedule(
    db,
    {
      jobId: value.jobId,
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
  return redirectWithToast(`/schedules/${created.id}`, `Schedule for ${created.jobName} created.`, headers);
});

export default function NewSchedule() {
  const data = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>();
  return (
    <div>
      <PageHeader title="New schedule" description="Run a job on a cron expression in a time zone; the preview shows the next runs, daylight-saving changes included." />
      <ScheduleForm
        editing={false}
        jobs={data.jobs}
        now={data.now}
        defaultValue={{ jobId: data.jobId, name: "", cron: "0 3 * * *", timezone: "UTC", enabled: true, misfirePolicy: "fire_once", overlapPolicy: "skip", misfireMaxAgeSec: 3600, parameters: {} }}
        lastResult={answer?.result as SubmissionResult<string[]> | undefined}
        submitLabel="Create schedule"
        pendingLabel="Creating…"
        cancel={
          <Link to="/schedules" className={buttonClass("secondary")}>
            Cancel
          </Link>
        }
      />
      <Toast toast={answer?.toast} />
    </div>
  );
}
