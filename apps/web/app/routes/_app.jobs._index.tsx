import type { MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { RunStatusBadge } from "../components/jobs/run-status.tsx";
import { buttonClass } from "../components/ui/button.tsx";
import { DataTable, FilterForm, FilterInput, FilterSelect, type Column } from "../components/ui/data-table.tsx";
import { EmptyState } from "../components/ui/empty-state.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { StatusBadge } from "../components/ui/status-badge.tsx";
import { MUTED } from "../components/ui/styles.ts";
import { When } from "../components/ui/when.tsx";
import { pageLoader, readPageQuery } from "../http/page.server.ts";
import { can } from "../lib/permissions.ts";
import { jobListQuery } from "../schemas/jobs.ts";
import { listJobSummaries, type JobSummary } from "../services/jobs/queries.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · Jobs" }];

export const loader = pageLoader({ permission: "jobs:read" }, async ({ db, user, request }) => {
  const query = readPageQuery(request, jobListQuery);
  const { items, nextCursor } = await listJobSummaries(db, query);
  return {
    canWrite: can(user.role, "jobs:write"),
    items,
    nextCursor,
    sort: query.sort,
    filters: { q: query.q ?? "", active: query.active === undefined ? "" : String(query.active) },
  };
});

const STATE_OPTIONS = [
  { value: "", label: "Any state" },
  { value: "true", label: "Active" },
  { value: "false", label: "Inactive" },
];

type Dated<T> = { [K in keyof T]: T[K] extends Date ? Date | string : T[K] extends Date | null ? Date | string | null : T[K] };
type Row = Omit<Dated<JobSummary>, "lastRun"> & { lastRun: Dated<NonNullable<JobSummary["lastRun"]>> | null };

const LINK = "font-medium break-words text-sky-700 underline-offset-2 hover:underline dark:text-sky-300";
const none = <span className={MUTED}>—</span>;

const columns: Column<Row>[] = [
  {
    key: "name",
    header: "Name",
    sortKey: "name",
    className: "min-w-40",
    cell: (row) => (
      <div className="min-w-0">
        <Link to={`/jobs/${row.id}`} className={LINK}>
          {row.name}
        </Link>
        {row.description && <p className={`mt-0.5 line-clamp-2 text-xs break-words ${MUTED}`}>{row.description}</p>}
      </div>
    ),
  },
  { key: "state", header: "State", cell: (row) => <StatusBadge ok={row.active}>{row.active ? "active" : "inactive"}</StatusBadge> },
  {
    key: "lastRun",
    header: "Last run",
    cell: (row) =>
      row.lastRun ? (
        <span className="flex flex-col items-start gap-1">
          <Link to={`/runs/${row.lastRun.id}`} aria-label={`Last run of ${row.name}: ${row.lastRun.status.replace(/_/g, " ")}`} className="rounded focus-visible:outline-2 focus-visible:outline-sky-500">
            <RunStatusBadge status={row.lastRun.status} />
          </Link>
          <span className={`text-xs ${MUTED}`}>
            <When at={row.lastRun.finishedAt ?? row.lastRun.queuedAt} />
          </span>
        </span>
      ) : (
        <span className={MUTED}>Never run</span>
      ),
  },
  { key: "next", header: "Next scheduled run", secondary: true, cell: (row) => (row.nextRunAt ? <When at={row.nextRunAt} /> : none) },
  {
    key: "changed",
    header: "Last changed",
    sortKey: "updatedAt",
    firstDirection: "desc",
    secondary: true,
    cell: (row) => (
      <span className="flex flex-col gap-0.5">
        <span>
          {row.version !== null ? `v${row.version} ` : ""}
          {row.changedBy ? <>by {row.changedBy}</> : <span className={MUTED}>by a deleted user</span>}
        </span>
        {row.changedAt && (
          <span className={`text-xs ${MUTED}`}>
            <When at={row.changedAt} />
          </span>
        )}
      </span>
    ),
  },
];

export default function Jobs() {
  const data = useLoaderData<typeof loader>();
  const filtered = data.filters.q !== "" || data.filters.active !== "";
  const newButton = data.canWrite ? (
    <Link to="/jobs/new" className={buttonClass("primary")}>
      New job
    </Link>
  ) : null;
  return (
    <div>
      <PageHeader title="Jobs" description="What can be run: steps on targets, with typed parameters. Every save keeps the previous versions." actions={newButton} />
      <FilterForm label="Filter jobs">
        <FilterInput name="q" label="Search name or description" defaultValue={data.filters.q} />
        <FilterSelect name="active" label="State" defaultValue={data.filters.active} options={STATE_OPTIONS} />
      </FilterForm>
      <DataTable
        label="Jobs"
        columns={columns}
        rows={data.items}
        rowKey={(row) => row.id}
        sort={data.sort}
        nextCursor={data.nextCursor}
        empty={
          filtered ? (
            <EmptyState title="No job matches these filters">Clear the filters to see every job.</EmptyState>
          ) : (
            <EmptyState title="No jobs yet" action={newButton}>
              {data.canWrite ? "Define the first one: its steps, the targets they run on and the parameters a run asks for." : "An operator or an admin defines jobs."}
            </EmptyState>
          )
        }
      />
    </div>
  );
}
