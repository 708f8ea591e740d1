import type { MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { buttonClass } from "../components/ui/button.tsx";
import { DataTable, FilterForm, FilterInput, FilterSelect, type Column } from "../components/ui/data-table.tsx";
import { EmptyState } from "../components/ui/empty-state.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { MUTED } from "../components/ui/styles.ts";
import { pageLoader, readPageQuery } from "../http/page.server.ts";
import { can } from "../lib/permissions.ts";
import { CREDENTIAL_TYPE_LABELS, CREDENTIAL_TYPES, credentialListQuery, type CredentialType } from "../schemas/credentials.ts";
import { listCredentials, type CredentialReference, type CredentialView } from "../services/credentials/queries.server.ts";
import { When } from "../components/ui/when.tsx";

export const meta: MetaFunction = () => [{ title: "OpsConductor · Credentials" }];

// Operators get references only (id, name, type), as GET /api/credentials gives them: the service
// decides, so this page cannot show them more than the API would.
export const loader = pageLoader({ permission: "credentials:reference" }, async ({ db, user, request }) => {
  const query = readPageQuery(request, credentialListQuery);
  const detail = can(user.role, "credentials:read");
  const { items, nextCursor } = await listCredentials(db, query, detail);
  const filters = { q: query.q ?? "", type: query.type ?? "" };
  const common = { canCreate: can(user.role, "credentials:write"), sort: query.sort, nextCursor, filters };
  return detail ? { ...common, view: "detail" as const, items: items as CredentialView[] } : { ...common, view: "reference" as const, items: items as CredentialReference[] };
});

const TYPE_OPTIONS = [{ value: "", label: "Any type" }, ...CREDENTIAL_TYPES.map((type) => ({ value: type, label: CREDENTIAL_TYPE_LABELS[type] }))];

function TypeLabel({ type }: { type: CredentialType }) {
  return <span className="whitespace-nowrap">{CREDENTIAL_TYPE_LABELS[type]}</span>;
}

function AllowedHosts({ patterns }: { patterns: string[] }) {
  if (patterns.length === 0) return <span className={MUTED}>None: only admins bind it</span>;
  const shown = patterns.slice(0, 3);
  return (
    <ul className="flex flex-wrap gap-1">
      {shown.map((pattern) => (
        <li key={pattern} className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs break-all dark:bg-slate-800">
          {pattern}
        </li>
      ))}
      {patterns.length > shown.length && <li className={`text-xs ${MUTED}`}>and {patterns.length - shown.length} more</li>}
    </ul>
  );
}

const DETAIL_COLUMNS: Column<CredentialView>[] = [
  {
    key: "name",
    header: "Name",
    sortKey: "name",
    cell: (row) => (
      <Link to={`/credentials/${row.id}`} className="font-medium break-words text-sky-700 underline-offset-2 hover:underline dark:text-sky-300">
        {row.name}
      </Link>
    ),
  },
  { key: "type", header: "Type", cell: (row) => <TypeLabel type={row.type} /> },
  { key: "policy", header: "Allowed hosts", cell: (row) => <AllowedHosts patterns={row.usagePolicy} />, secondary: true },
  { key: "targets", header: "Targets", cell: (row) => row.usedByTargets, className: "text-right tabular-nums" },
  { key: "updated", header: "Updated", sortKey: "updatedAt", firstDirection: "desc", cell: (row) => <When at={row.updatedAt} />, secondary: true, className: "whitespace-nowrap" },
];

const REFERENCE_COLUMNS: Column<CredentialReference>[] = [
  { key: "name", header: "Name", sortKey: "name", cell: (row) => <span className="font-medium break-words">{row.name}</span> },
  { key: "type", header: "Type", cell: (row) => <TypeLabel type={row.type} /> },
];

export default function Credentials() {
  const data = useLoaderData<typeof loader>();
  const filtered = data.filters.q !== "" || data.filters.type !== "";
  const newButton = data.canCreate ? (
    <Link to="/credentials/new" className={buttonClass("primary")}>
      New credential
    </Link>
  ) : null;
  const empty = filtered ? (
    <EmptyState title="No credential matches these filters">Clear the filters to see every credential.</EmptyState>
  ) : (
    <EmptyState title="No credentials yet" action={newButton}>
      {data.canCreate ? "A credential holds the secret OpsConductor signs in to targets with." : "An administrator adds the credentials targets sign in with."}
    </EmptyState>
  );
  return (
    <div>
      <PageHeader
        title="Credentials"
        description={
          data.view === "detail"
            ? "The secrets OpsConductor signs in to targets with. A stored secret can be replaced, never read back."
            : "The credentials you can pick for a target. Their details are visible to administrators only."
        }
        actions={newButton}
      />
      <FilterForm label="Filter credentials">
        <FilterInput name="q" label={data.view === "detail" ? "Search name, username or description" : "Search names"} defaultValue={data.filters.q} />
        <FilterSelect name="type" label="Type" defaultValue={data.filters.type} options={TYPE_OPTIONS} />
      </FilterForm>
      {data.view === "detail" ? (
        <DataTable label="Credentials" columns={DETAIL_COLUMNS} rows={data.items} rowKey={(row) => row.id} sort={data.sort} nextCursor={data.nextCursor} empty={empty} />
      ) : (
        <DataTable label="Credentials" columns={REFERENCE_COLUMNS} rows={data.items} rowKey={(row) => row.id} sort={data.sort} nextCursor={data.nextCursor} empty={empty} />
      )}
    </div>
  );
}
