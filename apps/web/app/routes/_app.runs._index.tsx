import type { MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { RunStatusBadge } from "../components/jobs/run-status.tsx";
import { formatDuration } from "../components/runs/run-format.ts";
import { DataTable, FilterForm, FilterInput, FilterSelect, type Column } from "../components/ui/data-table.tsx";
import { EmptyState } from "../components/ui/empty-state.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { MUTED } from "../components/ui/styles.ts";
import { When } from "../components/ui/when.tsx";
import { pageLoader, readPageQuery } from "../http/page.server.ts";
import { RUN_STATUSES, RUN_TRIGGERS, runHistoryQuery } from "../schemas/runs.ts";
import { runFilterChoices, runHistory } from "../services/runs/queries.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · Runs" }];

export const loader = pageLoader({ permission: "runs:read" }, async ({ db, request }) => {
  const query = readPageQuery(request, runHistoryQuery);
  const [page, choices] = await Promise.all([runHistory(db, query), runFilterChoices(db)]);
  const params = new URL(request.url).searchParams;
  const filtered = ["job", "status", "trigger", "target", "from", "to"].some((name) => params.get(name));
  return { ...page, ...choices, sort: query.sort, filtered, filters: Object.fromEntries(["job", "status", "trigger", "target", "from", "to"].map((name) => [name, params.get(name) ?? ""])) };
});

type Row = ReturnType<typeof useLoaderData<typeof loader>>["items"][number];

const words = (value: string) => value.replace(/_/g, " ");

const columns: Column<Row>[] = [
  {
    key: "run",
    header: "Run",
    cell: (run) => (
      <Link to={`/runs/${run.id}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
        {run.jobName} <span className="whitespace-nowrap">v{run.versionNumber}</span>
        <span className="sr-only">, run {run.id}</span>
      </Link>
    ),
  },
  { key: "status", header: "Status", cell: (run) => <RunStatusBadge status={run.status} /> },
  {
    key: "failedStep",
    header: "Failing step",
    cell: (run) =>
      run.failedStep ? (
        <Link to={`/runs/${run.id}#step-${run.failedStep.index + 1}`} className="text-rose-800 hover:underline dark:text-rose-300">
          {run.failedStep.index + 1}. {run.failedStep.name}
        </Link>
      ) : (
        <span className={MUTED}>—</span>
      ),
  },
  { key: "queuedAt", header: "Queued", sortKey: "queuedAt", firstDirection: "desc", cell: (run) => <When at={run.queuedAt} /> },
  { key: "duration", header: "Duration", secondary: true, cell: (run) => (run.startedAt && run.finishedAt ? formatDuration(run.startedAt, run.finishedAt, null) : <span className={MUTED}>—</span>) },
  {
    key: "trigger",
    header: "Trigger",
    secondary: true,
    cell: (run) => (run.trigger === "schedule" ? "schedule" : `${run.trigger}${run.requestedBy ? ` · ${run.requestedBy.username}` : ""}`),
  },
];

export default function RunsPage() {
  const data = useLoaderData<typeof loader>();
  const any = { value: "", label: "Any" };
  return (
    <div>
      <PageHeader title="Runs" description="Every run of every job, newest first. Open one to see its steps and its log." />
      <FilterForm label="Filter runs">
        <FilterSelect name="job" label="Job" defaultValue={data.filters.job} options={[{ value: "", label: "Any job" }, ...data.jobs.map((j) => ({ value: j.id, label: j.name }))]} />
        <FilterSelect name="status" label="Status" defaultValue={data.filters.status} options={[any, ...RUN_STATUSES.map((s) => ({ value: s, label: words(s) }))]} />
        <FilterSelect name="trigger" label="Trigger" defaultValue={data.filters.trigger} options={[any, ...RUN_TRIGGERS.map((t) => ({ value: t, label: t }))]} />
        <FilterSelect name="target" label="Target" defaultValue={data.filters.target} options={[{ value: "", label: "Any target" }, ...data.targets.map((t) => ({ value: t.id, label: t.name }))]} />
        <FilterInput name="from" label="Queued from (UTC)" type="datetime-local" defaultValue={data.filters.from} />
        <FilterInput name="to" label="Queued before (UTC)" type="datetime-local" defaultValue={data.filters.to} />
      </FilterForm>
      <DataTable
        label="Runs"
        columns={columns}
        rows={data.items}
        rowKey={(run) => run.id}
        sort={data.sort}
        nextCursor={data.nextCursor}
        empty={<EmptyState title={data.filtered ? "No run matches these filters" : "No runs yet"}>{data.filtered ? "Change or clear the filters to see more runs." : "Runs appear here when a job is run, by hand, through the API or on a schedule."}</EmptyState>}
      />
    </div>
  );
}
