import type { MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import type { ReactNode } from "react";
import { z } from "zod";
import { RunStatusBadge } from "../components/jobs/run-status.tsx";
import { cronInWords } from "../components/schedules/cron-builder.tsx";
import { CronPreview } from "../components/schedules/cron-preview.tsx";
import { MISFIRE_TEXT, OVERLAP_TEXT } from "../components/schedules/policies.ts";
import { SECRET_REASON } from "../components/schedules/schedule-form.tsx";
import { DualTime } from "../components/schedules/times.tsx";
import { useLiveData } from "../components/system/use-live.ts";
import { buttonClass, SubmitButton } from "../components/ui/button.tsx";
import { ConfirmDialog } from "../components/ui/confirm-dialog.tsx";
import { CsrfInput } from "../components/ui/csrf.tsx";
import { DataTable, type Column } from "../components/ui/data-table.tsx";
import { EmptyState } from "../components/ui/empty-state.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { CARD, MUTED } from "../components/ui/styles.ts";
import { Toast } from "../components/ui/toast.tsx";
import { pageAction, pageLoader, pageParams, redirectWithToast } from "../http/page.server.ts";
import { INTENT_FIELD } from "../lib/forms.ts";
import { can } from "../lib/permissions.ts";
import { idParams } from "../schemas/common.ts";
import { deleteSchedule, updateSchedule } from "../services/schedules/commands.server.ts";
import { scheduleRuns, schedulableJobs } from "../services/schedules/pages.server.ts";
import { getSchedule } from "../services/schedules/queries.server.ts";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `OpsConductor · Schedule ${data?.schedule.name ?? data?.schedule.jobName ?? ""}` }];

export const loader = pageLoader({ permission: "schedules:read" }, async ({ db, user, params }) => {
  const { id } = pageParams(params, idParams);
  const schedule = await getSchedule(db, id);
  const [runs, [job]] = await Promise.all([scheduleRuns(db, id), schedulableJobs(db, schedule.jobId)]);
  const secrets = Object.entries(job?.parameters ?? {}).filter(([, d]) => d.type === "secret").map(([n]) => n);
  return { schedule, runs, secrets, now: new Date().toISOString(), canWrite: can(user.role, "schedules:write") };
});

const actions = z.discriminatedUnion("intent", [z.object({ intent: z.literal("enable") }), z.object({ intent: z.literal("disable") }), z.object({ intent: z.literal("delete") })]);

export const action = pageAction({ permission: "schedules:write", schema: actions }, async (value, { db, params, principal, audit, headers }) => {
  const { id } = pageParams(params, idParams);
  if (value.intent === "delete") {
    const schedule = await getSchedule(db, id);
    await deleteSchedule(db, id, principal, audit);
    return redirectWithToast("/schedules", `Schedule for ${schedule.jobName} deleted; its runs are kept.`, headers);
  }
  await updateSchedule(db, id, { enabled: value.intent === "enable" }, principal, audit);
  return { toast: value.intent === "enable" ? "Schedule enabled." : "Schedule disabled; it fires nothing until enabled again." };
});

type Data = ReturnType<typeof useLoaderData<typeof loader>>;
type RunRow = Data["runs"][number];

function Setting({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className={`text-sm ${MUTED}`}>{label}</dt>
      <dd className="font-medium break-words">{children}</dd>
    </div>
  );
}

function runColumns(zone: string): Column<RunRow>[] {
  return [
    {
      key: "run",
      header: "Run",
      cell: (row) => (
        <Link to={`/runs/${row.id}`} className="font-medium text-sky-700 underline-offset-2 hover:underline dark:text-sky-300">
          {row.id.slice(0, 8)}
        </Link>
      ),
    },
    { key: "status", header: "Status", cell: (row) => <RunStatusBadge status={row.status} /> },
    { key: "due", header: "Due at", cell: (row) => <DualTime at={row.dueAt} zone={zone} /> },
    {
      key: "kind",
      header: "Firing",
      cell: (row) =>
        row.misfire ? (
          <span className="rounded bg-amber-100 px-1.5 py-0.5 text-xs font-medium text-amber-900 dark:bg-amber-900/40 dark:text-amber-200" title="Queued more than a minute after its time, by the misfire policy">
            Misfire catch-up
          </span>
        ) : (
          "On time"
        ),
    },
    { key: "queued", header: "Queued", secondary: true, cell: (row) => <DualTime at={row.queuedAt} zone={zone} /> },
  ];
}

export default function ScheduleDetail() {
  const { schedule, runs, secrets, now, canWrite } = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>();
  // The runs this schedule fires appear without a reload: the scheduler creates them in the worker,
  // with no event a browser listens to, so the page re-reads its loader every few seconds.
  useLiveData(2_000);
  const title = schedule.name ?? schedule.jobName;
  const words = cronInWords(schedule.cron);
  return (
    <div className="space-y-6">
      <PageHeader
        title={`Schedule: ${title}`}
        description={
          <>
            Runs job{" "}
            <Link to={`/jobs/${schedule.jobId}`} className="text-sky-700 underline dark:text-sky-300">
              {schedule.jobName}
            </Link>
            .
          </>
        }
        actions={
          canWrite ? (
            <>
              <Form method="post">
                <CsrfInput />
                <input type="hidden" name={INTENT_FIELD} value={schedule.enabled ? "disable" : "enable"} />
                <SubmitButton intent={schedule.enabled ? "disable" : "enable"} variant="secondary" pendingLabel={schedule.enabled ? "Disabling…" : "Enabling…"}>
                  {schedule.enabled ? "Disable" : "Enable"}
                </SubmitButton>
              </Form>
              <Link to={`/schedules/${schedule.id}/edit`} className={buttonClass("secondary")}>
                Edit
              </Link>
              <ConfirmDialog trigger="Delete" title={`Delete the schedule of ${schedule.jobName}?`} intent="delete" confirmLabel="Delete schedule" pendingLabel="Deleting…">
                It fires no more runs. The runs it already started are kept.
              </ConfirmDialog>
            </>
          ) : null
        }
      />
      <section className={CARD} aria-labelledby="settings-title">
        <h2 id="settings-title" className="mb-3 text-base font-semibold">
          Settings
        </h2>
        <dl className="grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-3">
          <Setting label="When">
            {words ?? schedule.cron} <code className={`block text-sm font-normal ${MUTED}`}>{schedule.cron}</code>
          </Setting>
          <Setting label="Time zone">{schedule.timezone}</Setting>
          <Setting label="State">{schedule.enabled ? "Enabled" : "Disabled"}</Setting>
          <Setting label="Next run">{schedule.enabled ? <DualTime at={schedule.nextRunAt} zone={schedule.timezone} /> : "—"}</Setting>
          <Setting label="When a run was missed">
            {MISFIRE_TEXT[schedule.misfirePolicy].label}
            <span className={`block text-sm font-normal ${MUTED}`}>{MISFIRE_TEXT[schedule.misfirePolicy].help}</span>
          </Setting>
          <Setting label="When the previous run is still going">
            {OVERLAP_TEXT[schedule.overlapPolicy].label}
            <span className={`block text-sm font-normal ${MUTED}`}>{OVERLAP_TEXT[schedule.overlapPolicy].help}</span>
          </Setting>
          <Setting label="Parameters">
            {Object.keys(schedule.parameters as object).length === 0 ? (
              <span className={MUTED}>The job's defaults</span>
            ) : (
              <code className="text-sm font-normal break-all">{JSON.stringify(schedule.parameters)}</code>
            )}
          </Setting>
        </dl>
        {secrets.length > 0 && <p className={`mt-3 text-sm ${MUTED}`}>Not scheduled: {secrets.join(", ")}. {SECRET_REASON}</p>}
      </section>
      <section className={CARD}>
        <CronPreview cron={schedule.cron} timezone={schedule.timezone} now={now} />
      </section>
      <section aria-labelledby="runs-title" className="space-y-2">
        <h2 id="runs-title" className="text-base font-semibold">
          Runs it fired
        </h2>
        <p className={`text-sm ${MUTED}`}>
          Newest first; updates by itself. A run queued more than a minute after its time was a misfire catch-up. Firings skipped because the previous run was still going start no run, so they are not listed; the worker's log records each.
        </p>
        <DataTable label="Runs this schedule fired" columns={runColumns(schedule.timezone)} rows={runs} rowKey={(r) => r.id} empty={<EmptyState title="No runs yet">Runs appear here as the scheduler fires them.</EmptyState>} />
      </section>
      <Toast toast={answer?.toast} />
    </div>
  );
}
