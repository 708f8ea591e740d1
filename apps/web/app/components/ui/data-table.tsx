// Lists: a table whose order and page live in the address (so a list can be shared, reloaded and
// used without JavaScript), and the filter form above it.
import { Form, Link, useLocation } from "@remix-run/react";
import type { ReactNode } from "react";
import { sortValue, type SortDirection, type SortOrder } from "../../lib/sort.ts";
import { buttonClass } from "./button.tsx";
import { CONTROL, MUTED } from "./styles.ts";

/** One column of a DataTable. */
export interface Column<T> {
  key: string;
  header: string;
  cell: (row: T) => ReactNode;
  /** The `sort` key this column orders by; the header becomes a link that sorts by it. */
  sortKey?: string;
  /** The direction a first click sorts in (ascending unless given). */
  firstDirection?: SortDirection;
  className?: string;
  /** Hidden below the `sm` breakpoint, so a phone shows the columns that matter. */
  secondary?: boolean;
}

interface DataTableProps<T> {
  /** Names the table (its caption) and its scrolling frame for screen readers. */
  label: string;
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  /** The order the rows are in. */
  sort?: SortOrder | null;
  /** The cursor of the next page, or null on the last one. */
  nextCursor?: string | null;
  /** What to show instead of an empty table. */
  empty?: ReactNode;
}

/** The address `search` leads to with `changes` applied (null removes a parameter). */
export function withParams(search: string, changes: Record<string, string | null>): string {
  const params = new URLSearchParams(search);
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) params.delete(name);
    else params.set(name, value);
  }
  const query = params.toString();
  return query ? `?${query}` : "?";
}

const ARIA_SORT = { asc: "ascending", desc: "descending" } as const;

function SortLink<T>({ column, sort, search }: { column: Column<T> & { sortKey: string }; sort: SortOrder | null | undefined; search: string }) {
  const active = sort?.key === column.sortKey;
  const next: SortOrder = { key: column.sortKey, direction: active ? (sort.direction === "asc" ? "desc" : "asc") : (column.firstDirection ?? "asc") };
  return (
    <Link
      to={withParams(search, { sort: sortValue(next), cursor: null })}
      preventScrollReset
      className="inline-flex items-center gap-1 rounded hover:underline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-500"
    >
      {column.header}
      <span aria-hidden="true" className={active ? "" : "text-slate-400 dark:text-slate-500"}>
        {active ? (sort.direction === "asc" ? "▲" : "▼") : "↕"}
      </span>
    </Link>
  );
}

/**
 * A list as a table: sortable headers (`?sort=key` / `?sort=-key`), cursor pagination
 * (`?cursor=`), filters in the address kept; scrolls inside its own focusable frame on a phone.
 */
export function DataTable<T>({ label, columns, rows, rowKey, sort, nextCursor, empty }: DataTableProps<T>) {
  const { search } = useLocation();
  const onLaterPage = new URLSearchParams(search).has("cursor");
  if (rows.length === 0 && empty && !onLaterPage) return <>{empty}</>;
  const hide = (column: Column<T>) => (column.secondary ? "hidden sm:table-cell" : "");
  return (
    <div>
      <div role="region" aria-label={label} tabIndex={0} className="overflow-x-auto rounded-xl border border-slate-200 bg-white focus-visible:outline-2 focus-visible:outline-sky-500 dark:border-slate-800 dark:bg-slate-900">
        <table className="w-full text-left text-sm">
          <caption className="sr-only">{label}</caption>
          <thead className="border-b border-slate-200 bg-slate-50 text-slate-700 dark:border-slate-800 dark:bg-slate-800/60 dark:text-slate-300">
            <tr>
              {columns.map((column) => (
                <th
                  key={column.key}
                  scope="col"
                  aria-sort={column.sortKey ? (sort?.key === column.sortKey ? ARIA_SORT[sort.direction] : "none") : undefined}
                  className={`px-3 py-2 font-medium whitespace-nowrap ${hide(column)} ${column.className ?? ""}`}
                >
                  {column.sortKey ? <SortLink column={{ ...column, sortKey: column.sortKey }} sort={sort} search={search} /> : column.header}
                </th>
              ))}
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
            {rows.map((row) => (
              <tr key={rowKey(row)} className="align-top">
                {columns.map((column) => (
                  <td key={column.key} className={`px-3 py-2 ${hide(column)} ${column.className ?? ""}`}>
                    {column.cell(row)}
                  </td>
                ))}
              </tr>
            ))}
            {rows.length === 0 && (
              <tr>
                <td colSpan={columns.length} className={`px-3 py-6 text-center ${MUTED}`}>
                  No more entries.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {(onLaterPage || nextCursor) && (
        <nav aria-label={`Pages of ${label}`} className="mt-3 flex flex-wrap items-center justify-end gap-2">
          {onLaterPage && (
            <Link to={withParams(search, { cursor: null })} className={buttonClass("secondary")}>
              First page
            </Link>
          )}
          {nextCursor && (
            <Link to={withParams(search, { cursor: nextCursor })} className={buttonClass("secondary")}>
              Next page
            </Link>
          )}
        </nav>
      )}
    </div>
  );
}

/**
 * The filters above a list: a GET form (a search landmark) whose fields become query parameters.
 * Applying keeps the order and starts from the first page; Clear removes every filter.
 */
export function FilterForm({ label, children }: { label: string; children: ReactNode }) {
  const { pathname, search } = useLocation();
  const sort = new URLSearchParams(search).get("sort");
  return (
    // Keyed by the address, so after Clear or Back the fields show the filters in force, not what was typed before.
    <Form key={search} method="get" role="search" aria-label={label} className="mb-4 flex flex-wrap items-end gap-3">
      {sort && <input type="hidden" name="sort" value={sort} />}
      {children}
      <div className="flex gap-2">
        <button type="submit" className={buttonClass("secondary")}>
          Apply
        </button>
        <Link to={sort ? `${pathname}?sort=${encodeURIComponent(sort)}` : pathname} className={buttonClass("secondary")}>
          Clear
        </Link>
      </div>
    </Form>
  );
}

function FilterLabel({ htmlFor, children }: { htmlFor: string; children: ReactNode }) {
  return (
    <label htmlFor={htmlFor} className="block text-sm font-medium text-slate-800 dark:text-slate-200">
      {children}
    </label>
  );
}

/** A labelled text (or search, date, datetime-local) filter of a FilterForm. */
export function FilterInput({ name, label, defaultValue, type = "search", placeholder }: { name: string; label: string; defaultValue?: string | null; type?: "search" | "text" | "date" | "datetime-local"; placeholder?: string }) {
  const id = `filter-${name}`;
  return (
    <div className="min-w-0 flex-1 basis-48">
      <FilterLabel htmlFor={id}>{label}</FilterLabel>
      <input id={id} name={name} type={type} defaultValue={defaultValue ?? ""} placeholder={placeholder} className={`mt-1 ${CONTROL}`} />
    </div>
  );
}

/** A labelled select filter of a FilterForm; its first option should be "any". */
export function FilterSelect({ name, label, defaultValue, options }: { name: string; label: string; defaultValue?: string | null; options: readonly { value: string; label: string }[] }) {
  const id = `filter-${name}`;
  return (
    <div className="min-w-0 basis-40">
      <FilterLabel htmlFor={id}>{label}</FilterLabel>
      <select id={id} name={name} defaultValue={defaultValue ?? ""} className={`mt-1 ${CONTROL}`}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}
