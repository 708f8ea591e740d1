import type { MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { DualTime } from "../components/schedules/times.tsx";
import { useLiveData } from "../components/system/use-live.ts";
import { ConfirmDialog } from "../components/ui/confirm-dialog.tsx";
import { DataTable, type Column } from "../components/ui/data-table.tsx";
import { EmptyState } from "../components/ui/empty-state.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { StatusBadge } from "../components/ui/status-badge.tsx";
import { CARD, MUTED } from "../components/ui/styles.ts";
import { Toast } from "../components/ui/toast.tsx";
import { When } from "../components/ui/when.tsx";
import { pageAction, pageLoader } from "../http/page.server.ts";
import { can } from "../lib/permissions.ts";
import { schedulerStatus, setSchedulerEnabled } from "../services/schedules/scheduler.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · Scheduler" }];

export const loader = pageLoader({ permission: "scheduler:read" }, async ({ db, user }) => ({ status: await schedulerStatus(db), canControl: can(user.role, "scheduler:control") }));

const actions = z.discriminatedUnion("intent", [z.object({ intent: z.literal("start") }), z.object({ intent: z.literal("stop") })]);

export const action = pageAction({ permission: "scheduler:control", schema: actions }, async (value, { db, principal, audit }) => {
  await setSchedulerEnabled(db, value.intent === "start", principal, audit);
  return { toast: value.intent === "start" ? "Scheduler started: due schedules fire again." : "Scheduler stopped: no schedule fires until it is started." };
});

type Due = ReturnType<typeof useLoaderData<typeof loader>>["status"]["due"][number];

const DUE_COLUMNS: Column<Due>[] = [
  {
    key: "schedule",
    header: "Schedule",
    cell: (row) => (
      <Link to={`/schedules/${row.id}`} className="font-medium text-sky-700 underline-offset-2 hover:underline dark:text-sky-300">
        {row.name ?? row.jobName}
      </Link>
    ),
  },
  { key: "cron", header: "Expression", secondary: true, cell: (row) => <code>{row.cron}</code> },
  { key: "next", header: "Due", cell: (row) => <DualTime at={row.nextRunAt} zone={row.timezone} /> },
];

export default function Scheduler() {
  const { status, canControl } = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>();
  useLiveData(5_000);
  return (
    <div className="space-y-6">
      <PageHeader
        title="Scheduler"
        description="Every worker runs the schedule loop; this switch starts or stops it for all of them."
        actions={
          canControl ? (
            status.enabled ? (
              <ConfirmDialog trigger="Stop scheduler" title="Stop the scheduler?" intent="stop" confirmLabel="Stop scheduler" pendingLabel="Stopping…">
                No schedule fires while it is stopped. When it is started again, each schedule&apos;s misfire policy decides what happens to the firings it missed. Runs already queued or running are not affected.
              </ConfirmDialog>
            ) : (
              <ConfirmDialog trigger="Start scheduler" triggerVariant="primary" title="Start the scheduler?" intent="start" confirmLabel="Start scheduler" pendingLabel="Starting…">
                Due schedules fire again; firings missed while it was stopped follow each schedule&apos;s misfire policy.
              </ConfirmDialog>
            )
          ) : null
        }
      />
      <section className={CARD} aria-labelledby="state-title">
        <h2 id="state-title" className="mb-3 text-base font-semibold">
          State
        </h2>
        <dl className="grid grid-cols-1 gap-4 sm:grid-cols-3">
          <div>
            <dt className={`text-sm ${MUTED}`}>Scheduler</dt>
            <dd data-testid="scheduler-state">
              <StatusBadge ok={status.enabled}>{status.enabled ? "running" : "stopped"}</StatusBadge>
              {status.changedAt && (
                <span className={`ml-2 text-sm ${MUTED}`}>
                  since <When at={status.changedAt} />
                </span>
              )}
            </dd>
          </div>
          <div>
            <dt className={`text-sm ${MUTED}`}>Last tick</dt>
            <dd className="font-medium">{status.lastTickAt ? <When at={status.lastTickAt} seconds /> : "Never"}</dd>
          </div>
          <div>
            <dt className={`text-sm ${MUTED}`}>Lag</dt>
            <dd className="font-medium tabular-nums">{status.lastLagMs === null ? "—" : `${status.lastLagMs} ms`}</dd>
          </div>
        </dl>
        {!canControl && <p className={`mt-3 text-sm ${MUTED}`}>Administrators start and stop the scheduler.</p>}
      </section>
      <section aria-labelledby="due-title" className="space-y-2">
        <h2 id="due-title" className="text-base font-semibold">
          Next due schedules
        </h2>
        <DataTable label="Next due schedules" columns={DUE_COLUMNS} rows={status.due} rowKey={(r) => r.id} empty={<EmptyState title="Nothing due">No enabled schedule has a next run.</EmptyState>} />
      </section>
      <Toast toast={answer?.toast} />
    </div>
  );
}
