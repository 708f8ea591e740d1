import { data as answer, type MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { When } from "../components/ui/when.tsx";
import { buttonClass } from "../components/ui/button.tsx";
import { DataTable, FilterForm, FilterInput, FilterSelect, type Column } from "../components/ui/data-table.tsx";
import { EmptyState } from "../components/ui/empty-state.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { StatusBadge } from "../components/ui/status-badge.tsx";
import { MUTED } from "../components/ui/styles.ts";
import { pageLoader, readPageQuery, type BadQueryData } from "../http/page.server.ts";
import { can } from "../lib/permissions.ts";
import { TARGET_OS, targetPageQuery } from "../schemas/targets.ts";
import { ApiError } from "../services/errors.server.ts";
import { listTargets } from "../services/targets/queries.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · Targets" }];

export const loader = pageLoader({ permission: "targets:read" }, async ({ db, user, request }) => {
  const query = readPageQuery(request, targetPageQuery);
  const page = await listTargets(db, query, query.sort).catch((error: unknown) => {
    // A cursor from another order or a tampered one: the 400 page, as for any bad parameter.
    if (error instanceof ApiError && error.status === 400) throw answer<BadQueryData>({ problems: [error.message] }, { status: 400, headers: { "Cache-Control": "no-store" } });
    throw error;
  });
  return {
    ...page,
    sort: query.sort,
    filters: { q: query.q ?? "", tag: query.tag?.join(" ") ?? "", os: query.os ?? "" },
    canWrite: can(user.role, "targets:write"),
  };
});

type Row = ReturnType<typeof useLoaderData<typeof loader>>["items"][number];

const OS_OPTIONS = [{ value: "", label: "Any OS" }, ...TARGET_OS.map((os) => ({ value: os, label: os === "windows" ? "Windows" : "Linux" }))];

function LastTest({ test }: { test: Row["lastTest"] }) {
  if (!test) return <span className={MUTED}>Never tested</span>;
  return (
    <span className="flex flex-wrap items-center gap-x-2 gap-y-1">
      <StatusBadge ok={test.ok}>{test.ok ? "ok" : "failed"}</StatusBadge>
      {test.latencyMs !== null && <span className="tabular-nums">{test.latencyMs} ms</span>}
      <span className={`text-xs ${MUTED}`}>
        <When at={test.at} />
      </span>
    </span>
  );
}

const COLUMNS: Column<Row>[] = [
  {
    key: "name",
    header: "Name",
    sortKey: "name",
    cell: (row) => (
      <Link to={`/targets/${row.id}`} className="font-medium break-words text-sky-700 underline-offset-2 hover:underline dark:text-sky-300">
        {row.name}
      </Link>
    ),
  },
  { key: "hostname", header: "Host", sortKey: "hostname", cell: (row) => <span className="break-all">{`${row.hostname}:${row.port}`}</span> },
  { key: "os", header: "OS", cell: (row) => (row.os === "windows" ? "Windows" : "Linux"), secondary: true },
  {
    key: "tags",
    header: "Tags",
    secondary: true,
    cell: (row) =>
      row.tags.length === 0 ? (
        <span className={MUTED}>—</span>
      ) : (
        <ul className="flex flex-wrap gap-1">
          {row.tags.map((tag) => (
            <li key={tag} className="rounded bg-slate-100 px-1.5 py-0.5 text-xs dark:bg-slate-800">
              {tag}
            </li>
          ))}
        </ul>
      ),
  },
  { key: "credential", header: "Credential", secondary: true, cell: (row) => row.credential?.name ?? <span className={MUTED}>None</span> },
  { key: "lastTest", header: "Last test", cell: (row) => <LastTest test={row.lastTest} /> },
  { key: "created", header: "Registered", sortKey: "createdAt", firstDirection: "desc", secondary: true, className: "whitespace-nowrap", cell: (row) => <When at={row.createdAt} /> },
];

export default function Targets() {
  const data = useLoaderData<typeof loader>();
  const filtered = data.filters.q !== "" || data.filters.tag !== "" || data.filters.os !== "";
  const actions = data.canWrite ? (
    <>
      <Link to="/targets/import" className={buttonClass("secondary")}>
        Import from CSV
      </Link>
      <Link to="/targets/new" className={buttonClass("primary")}>
        New target
      </Link>
    </>
  ) : null;
  const empty = filtered ? (
    <EmptyState title="No target matches these filters">Clear the filters to see every target.</EmptyState>
  ) : (
    <EmptyState title="No targets yet" action={actions}>
      {data.canWrite ? "A target is a Windows host jobs run on. Register one, or import many from a CSV file." : "Operators and administrators register the hosts jobs run on."}
    </EmptyState>
  );
  return (
    <div>
      <PageHeader title="Targets" description="The hosts jobs run on, how OpsConductor reaches them, and whether the last connection test worked." actions={actions} />
      <FilterForm label="Filter targets">
        <FilterInput name="q" label="Search name, host or description" defaultValue={data.filters.q} />
        <FilterInput name="tag" label="Tag" type="text" defaultValue={data.filters.tag} />
        <FilterSelect name="os" label="OS" defaultValue={data.filters.os} options={OS_OPTIONS} />
      </FilterForm>
      <DataTable label="Targets" columns={COLUMNS} rows={data.items} rowKey={(row) => row.id} sort={data.sort} nextCursor={data.nextCursor} empty={empty} />
    </div>
  );
}
