import type { MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useLocation } from "@remix-run/react";
import { buttonClass } from "../components/ui/button.tsx";
import { DataTable, FilterForm, FilterInput, FilterSelect, withParams, type Column } from "../components/ui/data-table.tsx";
import { EmptyState } from "../components/ui/empty-state.tsx";
import { JsonViewer } from "../components/ui/json-viewer.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { MUTED } from "../components/ui/styles.ts";
import { pageLoader, readPageQuery } from "../http/page.server.ts";
import { sentence } from "../lib/forms.ts";
import { auditPageQuery } from "../schemas/audit.ts";
import { auditVocabulary, listAudit, type AuditEntryView } from "../services/audit/queries.server.ts";
import { ApiError } from "../services/errors.server.ts";
import { When } from "../components/ui/when.tsx";

export const meta: MetaFunction = () => [{ title: "OpsConductor · Audit log" }];

// What a datetime-local field shows for a time the address holds (read as UTC, as its label says).
// To the minute unless the time has seconds, so the field's default step accepts it.
function asLocalField(iso: string | undefined): string {
  if (!iso) return "";
  const utc = new Date(iso).toISOString();
  return utc.slice(16, 23) === ":00.000" ? utc.slice(0, 16) : utc.slice(0, 19);
}

export const loader = pageLoader({ permission: "audit:read" }, async ({ db, request }) => {
  const query = readPageQuery(request, auditPageQuery);
  const vocabulary = await auditVocabulary(db);
  const filters = { actor: query.actor ?? "", action: query.action ?? "", entityType: query.entityType ?? "", entityId: query.entityId ?? "", from: asLocalField(query.from), to: asLocalField(query.to) };
  try {
    const page = await listAudit(db, query);
    return { ...page, vocabulary, filters, problem: null };
  } catch (error) {
    // Filters that contradict each other (an entity id without its type, "to" before "from"): said
    // above the list, the filters kept for fixing.
    if (!(error instanceof ApiError) || error.status !== 400) throw error;
    const problem = error.message.includes("query.cursor")
      ? "This page link is not one the audit log made: start again from the first page."
      : sentence(error.message.replace(/query\.entityId/g, "The entity id").replace(/query\.entityType/g, "an entity type").replace(/query\.to/g, '"To"').replace(/query\.from/g, '"From"'));
    return { items: [] as AuditEntryView[], nextCursor: null, vocabulary, filters, problem };
  }
});

type Row = Omit<AuditEntryView, "at"> & { at: Date | string };

// The options of the action filter: every action seen, each family first ("user.*" before "user.create").
function actionOptions(actions: readonly string[], current: string) {
  const families = [...new Set(actions.map((a) => a.split(".")[0]!))];
  const options = [{ value: "", label: "Any action" }];
  for (const family of families) {
    const members = actions.filter((a) => a.split(".")[0] === family);
    if (members.length > 1) options.push({ value: `${family}.*`, label: `${family}.* (every ${family} action)` });
    for (const action of members) options.push({ value: action, label: action });
  }
  if (current && !options.some((o) => o.value === current)) options.push({ value: current, label: current });
  return options;
}

function entityOptions(types: readonly string[], current: string) {
  const options = [{ value: "", label: "Any type" }, ...types.map((t) => ({ value: t, label: t }))];
  if (current && !types.includes(current)) options.push({ value: current, label: current });
  return options;
}

function FilterLink({ search, changes, children, wrap = false }: { search: string; changes: Record<string, string | null>; children: string; wrap?: boolean }) {
  return (
    <Link to={withParams(search, { ...changes, cursor: null })} className={`text-sky-700 underline-offset-2 hover:underline dark:text-sky-300 ${wrap ? "break-all" : "whitespace-nowrap"}`}>
      {children}
    </Link>
  );
}

function Details({ entry, search }: { entry: Row; search: string }) {
  return (
    <details className="group min-w-0">
      <summary className="cursor-pointer rounded break-words focus-visible:outline-2 focus-visible:outline-sky-500">{entry.summary}</summary>
      <div className="mt-3 space-y-3">
        <dl className="grid grid-cols-[auto_minmax(0,1fr)] gap-x-3 gap-y-1 text-xs">
          <dt className={MUTED}>Entry</dt>
          <dd className="font-mono">{entry.id}</dd>
          <dt className={MUTED}>Actor</dt>
          <dd>{entry.actorName ? <FilterLink search={search} changes={{ actor: entry.actorName }} wrap>{entry.actorName}</FilterLink> : "—"}</dd>
          <dt className={MUTED}>Actor id</dt>
          <dd className="font-mono break-all">{entry.actorId ?? "— (deleted or none)"}</dd>
          <dt className={MUTED}>Entity</dt>
          <dd className="break-all">
            {entry.entityType ? (
              <FilterLink search={search} changes={{ entityType: entry.entityType, entityId: entry.entityId }} wrap>
                {entry.entityId ? `${entry.entityType} ${entry.entityId}` : entry.entityType}
              </FilterLink>
            ) : (
              "—"
            )}
          </dd>
          <dt className={MUTED}>Address</dt>
          <dd className="font-mono break-all">{entry.ip ?? "—"}</dd>
          <dt className={MUTED}>User agent</dt>
          <dd className="break-all">{entry.userAgent ?? "—"}</dd>
        </dl>
        <JsonViewer value={entry.details} label={`Details of entry ${entry.id}`} />
      </div>
    </details>
  );
}

function columns(search: string): Column<Row>[] {
  return [
    {
      key: "at",
      header: "When",
      // On a phone the action rides under the time, so the summary keeps the width it needs.
      cell: (row) => (
        <>
          <When at={row.at} seconds />
          <span className="mt-1 block sm:hidden">
            <FilterLink search={search} changes={{ action: row.action }}>
              {row.action}
            </FilterLink>
          </span>
        </>
      ),
      className: "sm:whitespace-nowrap",
    },
    { key: "actor", header: "Actor", cell: (row) => (row.actorName ? <FilterLink search={search} changes={{ actor: row.actorName }}>{row.actorName}</FilterLink> : <span className={MUTED}>—</span>), secondary: true },
    { key: "action", header: "Action", cell: (row) => <FilterLink search={search} changes={{ action: row.action }}>{row.action}</FilterLink>, secondary: true },
    {
      key: "entity",
      header: "Entity",
      cell: (row) => (row.entityType ? <FilterLink search={search} changes={{ entityType: row.entityType, entityId: null }}>{row.entityType}</FilterLink> : <span className={MUTED}>—</span>),
      secondary: true,
    },
    { key: "summary", header: "What happened", cell: (row) => <Details entry={row} search={search} />, className: "w-full min-w-48" },
  ];
}

export default function AuditLog() {
  const data = useLoaderData<typeof loader>();
  const { search } = useLocation();
  const { filters } = data;
  const filtered = Object.values(filters).some((v) => v !== "");
  const exportSearch = withParams(search, { cursor: null });
  return (
    <div>
      <PageHeader
        title="Audit log"
        description="Who did what, newest first. Secrets are never written here. Times are UTC."
        actions={
          <a href={`/audit/export.csv${exportSearch === "?" ? "" : exportSearch}`} download className={buttonClass("secondary")}>
            Export CSV{filtered ? " (filtered)" : ""}
          </a>
        }
      />
      {/* Keyed by the address, so the fields show its filters after Clear or Back (their values are uncontrolled). */}
      <FilterForm label="Filter the audit log">
        <FilterInput name="actor" label="Actor (username or id)" defaultValue={filters.actor} />
        <FilterSelect name="action" label="Action" defaultValue={filters.action} options={actionOptions(data.vocabulary.actions, filters.action)} />
        <FilterSelect name="entityType" label="Entity type" defaultValue={filters.entityType} options={entityOptions(data.vocabulary.entityTypes, filters.entityType)} />
        <FilterInput name="entityId" label="Entity id" type="text" defaultValue={filters.entityId} />
        <FilterInput name="from" label="From (UTC)" type="datetime-local" defaultValue={filters.from} />
        <FilterInput name="to" label="To (UTC)" type="datetime-local" defaultValue={filters.to} />
      </FilterForm>
      {data.problem && (
        <p role="alert" className="mb-4 rounded-lg border border-rose-300 bg-rose-50 px-4 py-3 text-sm text-rose-900 dark:border-rose-800 dark:bg-rose-950/50 dark:text-rose-100">
          {data.problem}
        </p>
      )}
      <DataTable
        label="Audit entries"
        columns={columns(search)}
        rows={data.items}
        rowKey={(row) => row.id}
        nextCursor={data.nextCursor}
        empty={filtered ? <EmptyState title="No entry matches these filters">Widen the time range or clear the filters.</EmptyState> : <EmptyState title="Nothing audited yet">Every change anyone makes appears here.</EmptyState>}
      />
    </div>
  );
}
