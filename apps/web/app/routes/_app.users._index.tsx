import { data, type MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { buttonClass } from "../components/ui/button.tsx";
import { DataTable, FilterForm, FilterInput, FilterSelect, type Column } from "../components/ui/data-table.tsx";
import { EmptyState } from "../components/ui/empty-state.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { StatusBadge } from "../components/ui/status-badge.tsx";
import { When } from "../components/ui/when.tsx";
import { MUTED } from "../components/ui/styles.ts";
import { pageLoader, readPageQuery, type BadQueryData } from "../http/page.server.ts";
import { ROLES } from "../lib/permissions.ts";
import { userListQuery } from "../schemas/users.ts";
import { ApiError } from "../services/errors.server.ts";
import { listUsers, type UserView } from "../services/users/queries.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · Users" }];

export const loader = pageLoader({ permission: "users:read" }, async ({ db, user, request }) => {
  const query = readPageQuery(request, userListQuery);
  const { items, nextCursor } = await listUsers(db, query).catch((error: unknown) => {
    // A page link that is stale or made up (a cursor of another order): the 400 page, not a failure.
    if (error instanceof ApiError && error.status === 400) throw data<BadQueryData>({ problems: ["cursor is not a page link of this list (start again from the first page)"] }, { status: 400, headers: { "Cache-Control": "no-store" } });
    throw error;
  });
  return {
    me: user.id,
    items,
    nextCursor,
    sort: query.sort,
    filters: { q: query.q ?? "", role: query.role ?? "", disabled: query.disabled === undefined ? "" : String(query.disabled) },
  };
});

const ROLE_OPTIONS = [{ value: "", label: "Any role" }, ...ROLES.map((role) => ({ value: role, label: role }))];
const STATE_OPTIONS = [
  { value: "", label: "Any state" },
  { value: "false", label: "Enabled" },
  { value: "true", label: "Disabled" },
];

type Row = Omit<UserView, "createdAt" | "updatedAt" | "lastLoginAt"> & { createdAt: Date | string; updatedAt: Date | string; lastLoginAt: Date | string | null };

function columns(me: string): Column<Row>[] {
  return [
    {
      key: "username",
      header: "Username",
      sortKey: "username",
      cell: (row) => (
        <span className="flex flex-wrap items-baseline gap-x-2">
          <Link to={`/users/${row.id}`} className="font-medium break-all text-sky-700 underline-offset-2 hover:underline dark:text-sky-300">
            {row.username}
          </Link>
          {row.id === me && <span className={`text-xs ${MUTED}`}>(you)</span>}
        </span>
      ),
    },
    { key: "name", header: "Display name", cell: (row) => row.displayName ?? <span className={MUTED}>—</span>, secondary: true, className: "break-words" },
    { key: "role", header: "Role", cell: (row) => row.role },
    { key: "state", header: "State", cell: (row) => <StatusBadge ok={!row.disabled}>{row.disabled ? "disabled" : "enabled"}</StatusBadge> },
    { key: "lastLogin", header: "Last sign-in", cell: (row) => (row.lastLoginAt ? <When at={row.lastLoginAt} /> : <span className={MUTED}>Never</span>), secondary: true, className: "whitespace-nowrap" },
    { key: "created", header: "Created", sortKey: "createdAt", firstDirection: "desc", cell: (row) => <When at={row.createdAt} />, secondary: true, className: "whitespace-nowrap" },
  ];
}

export default function Users() {
  const data = useLoaderData<typeof loader>();
  const filtered = data.filters.q !== "" || data.filters.role !== "" || data.filters.disabled !== "";
  const newButton = (
    <Link to="/users/new" className={buttonClass("primary")}>
      New user
    </Link>
  );
  return (
    <div>
      <PageHeader title="Users" description="Who may sign in, and with which role. Disabling a user or changing their role signs them out everywhere." actions={newButton} />
      {/* Keyed by the address, so the fields show its filters after Clear or Back (their values are uncontrolled). */}
      <FilterForm label="Filter users">
        <FilterInput name="q" label="Search username, name or email" defaultValue={data.filters.q} />
        <FilterSelect name="role" label="Role" defaultValue={data.filters.role} options={ROLE_OPTIONS} />
        <FilterSelect name="disabled" label="State" defaultValue={data.filters.disabled} options={STATE_OPTIONS} />
      </FilterForm>
      <DataTable
        label="Users"
        columns={columns(data.me)}
        rows={data.items}
        rowKey={(row) => row.id}
        sort={data.sort}
        nextCursor={data.nextCursor}
        empty={filtered ? <EmptyState title="No user matches these filters">Clear the filters to see every user.</EmptyState> : <EmptyState title="No users yet" action={newButton} />}
      />
    </div>
  );
}
