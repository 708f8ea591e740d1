import type { MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { RunStatusBadge } from "../components/jobs/run-status.tsx";
import { cronInWords } from "../components/schedules/cron-builder.tsx";
import { DualTime } from "../components/schedules/times.tsx";
import { buttonClass } from "../components/ui/button.tsx";
import { DataTable, FilterForm, FilterSelect, type Column } from "../components/ui/data-table.tsx";
import { EmptyState } from "../components/ui/empty-state.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { MUTED } from "../components/ui/styles.ts";
import { pageLoader, readPageQuery } from "../http/page.server.ts";
import { can } from "../lib/permissions.ts";
import { scheduleListQuery } from "../schemas/schedules.ts";
import { jobChoices, lastRuns } from "../services/schedules/pages.server.ts";
import { listSchedules } from "../services/schedules/queries.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · Schedules" }];

export const loader = pageLoader({ permission: "schedules:read" }, async ({ db, user, request }) => {
  const query = readPageQuery(request, scheduleListQuery);
  const [page, jobs] = await Promise.all([listSchedules(db, query), jobChoices(db)]);
  const last = await lastRuns(db, page.items.map((s) => s.id));
  return {
    items: page.items.map((s) => ({ id: s.id, name: s.name, jobId: s.jobId, jobName: s.jobName, cron: s.cron, timezone: s.timezone, enabled: s.enabled, nextRunAt: s.nextRunAt, lastRun: last[s.id] ?? null })),
    nextCursor: page.nextCursor,
    jobs,
    filters: { jobId: query.jobId ?? "", enabled: query.enabled === undefined ? "" : String(query.enabled) },
    canWrite: can(user.role, "schedules:write"),
  };
});

type Row = ReturnType<typeof useLoaderData<typeof loader>>["items"][number];

const LINK = "font-medium break-words text-sky-700 underline-offset-2 hover:underline dark:text-sky-300";

const COLUMNS: Column<Row>[] = [
  {
    key: "job",
    header: "Schedule",
    cell: (row) => (
      <Link to={`/schedules/${row.id}`} className={LINK}>
        {row.name ?? row.jobName}
        {row.name && <span className={`block text-xs font-normal ${MUTED}`}>{row.jobName}</span>}
      </Link>
    ),
  },
  {
    key: "cron",
    header: "When",
    cell: (row) => (
      <span>
        {cronInWords(row.cron) ?? row.cron}
        <code className={`block text-xs ${MUTED}`}>{row.cron}</code>
      </span>
    ),
  },
  { key: "zone", header: "Zone", secondary: true, cell: (row) => row.timezone },
  { key: "next", header: "Next run", cell: (row) => (row.enabled ? <DualTime at={row.nextRunAt} zone={row.timezone} /> : <span className={MUTED}>Disabled</span>) },
  { key: "enabled", header: "Enabled", secondary: true, cell: (row) => (row.enabled ? "Yes" : "No") },
  {
    key: "last",
    header: "Last run",
    cell: (row) =>
      row.lastRun ? (
        <Link to={`/runs/${row.lastRun.id}`} aria-label={`Last run: ${row.lastRun.status}`}>
          <RunStatusBadge status={row.lastRun.status} />
        </Link>
      ) : (
        <span className={MUTED}>Never</span>
      ),
  },
];

export default function Schedules() {
  const data = useLoaderData<typeof loader>();
  const filtered = data.filters.jobId !== "" || data.filters.enabled !== "";
  const actions = (
    <>
      <Link to="/scheduler" className={buttonClass("secondary")}>
        Scheduler
      </Link>
      {data.canWrite && (
        <Link to="/schedules/new" className={buttonClass("primary")}>
          New schedule
        </Link>
      )}
    </>
  );
  const empty = filtered ? (
    <EmptyState title="No schedule matches these filters">Clear the filters to see every schedule.</EmptyState>
  ) : (
    <EmptyState title="No schedules yet" action={data.canWrite ? actions : null}>
      {data.canWrite ? "A schedule runs a job on a cron expression in a time zone." : "Operators and administrators schedule jobs."}
    </EmptyState>
  );
  return (
    <div>
      <PageHeader title="Schedules" description="Jobs that run on a cron expression, in the schedule's time zone; next runs in that zone and yours." actions={actions} />
      <FilterForm label="Filter schedules">
        <FilterSelect name="jobId" label="Job" defaultValue={data.filters.jobId} options={[{ value: "", label: "Any job" }, ...data.jobs.map((j) => ({ value: j.id, label: j.name }))]} />
        <FilterSelect
          name="enabled"
          label="Enabled"
          defaultValue={data.filters.enabled}
          options={[
            { value: "", label: "Enabled or not" },
            { value: "true", label: "Enabled" },
            { value: "false", label: "Disabled" },
          ]}
        />
      </FilterForm>
      <DataTable label="Schedules" columns={COLUMNS} rows={data.items} rowKey={(row) => row.id} nextCursor={data.nextCursor} empty={empty} />
    </div>
  );
}
