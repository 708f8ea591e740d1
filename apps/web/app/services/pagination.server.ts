// Keyset pagination, the one implementation every list uses: rows newest first by (a timestamp, id),
// an opaque cursor naming the last row of a page, and one extra row fetched to know whether more follow.
import { z } from "zod";
import type { SortDirection } from "../lib/sort.ts";
import { ApiError } from "./errors.server.ts";

/** What a list service is asked for: at most `limit` rows after the (still encoded) cursor. */
export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

/** One page of a list and the cursor of the next one (null on the last page). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The position of a row in a (timestamp desc, id desc) list: what a cursor carries. */
export const positionCursor = z.object({ at: z.iso.datetime(), id: z.uuid() });

/** An opaque cursor for keyset pagination. */
export function encodeCursor(value: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** Decodes a cursor made by encodeCursor; a tampered cursor is a 400 naming the query field. */
export function decodeCursor<T extends z.ZodType>(cursor: string | undefined, shape: T): z.infer<T> | undefined {
  if (!cursor) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    value = undefined;
  }
  const parsed = shape.safeParse(value);
  if (!parsed.success) throw new ApiError(400, "validation_failed", "query.cursor is not a cursor this API returned", { details: [{ path: "query.cursor", message: "query.cursor is not a cursor this API returned" }] });
  return parsed.data;
}

/** Cuts the extra row off a page query's result and makes the next cursor from the last kept row. */
export function toPage<T>(rows: T[], limit: number, cursorOf: (row: T) => Record<string, string | number>): Page<T> {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? encodeCursor(cursorOf(items[items.length - 1]!)) : null };
}

type OlderThan<C extends string, I> = { AND: [{ [K in C]: { lte: Date } }, { OR: [{ [K in C]: { lt: Date } }, { id: { lt: I } }] }] };

/**
 * The rows after (at, id) in (column desc, id desc) order. Written as `column <= at AND (column < at
 * OR id < id)` rather than the plain OR: the bound on the column alone lets PostgreSQL start the
 * index scan at the cursor instead of reading and discarding every row before it.
 */
export function olderThan<C extends string, I>(column: C, at: Date, id: I): OlderThan<C, I> {
  return { AND: [{ [column]: { lte: at } }, { OR: [{ [column]: { lt: at } }, { id: { lt: id } }] }] } as OlderThan<C, I>;
}

/**
 * One page of a list ordered newest first by `column`, then id: `args(where)` gives findMany the
 * list's filters narrowed to the rows after the cursor, the ordering and how many rows to take;
 * `page` turns the rows found into the answer.
 */
export function newestFirst<C extends string>(request: PageRequest, column: C) {
  const after = decodeCursor(request.cursor, positionCursor);
  const orderBy = [{ [column]: "desc" }, { id: "desc" }] as [{ [K in C]: "desc" }, { id: "desc" }];
  return {
    args: <W extends object>(where: W) => ({ where: { AND: [where, after ? olderThan(column, new Date(after.at), after.id) : {}] }, orderBy, take: request.limit + 1 }),
    page: <T extends { id: string } & { [K in C]: Date }>(rows: T[]): Page<T> => toPage(rows, request.limit, (row) => ({ at: row[column].toISOString(), id: row.id })),
  };
}

/** A list's order for sortedPage: a non-null column, its direction, and whether it holds times or text. */
export interface SortedBy<C extends string> {
  column: C;
  direction: SortDirection;
  kind: "date" | "text";
}

// The position of a row in a list ordered by (column, id): the order it was made under, the value, the id.
const sortedCursor = z.object({ o: z.string(), v: z.string(), id: z.uuid() });

/**
 * One page of a list ordered by `sort.column` then id, in either direction: the same shape as
 * newestFirst. A cursor made under another order (the user changed the sort) is a 400.
 */
export function sortedPage<C extends string>(request: PageRequest, sort: SortedBy<C>) {
  const order = `${sort.column}:${sort.direction}`;
  const after = decodeCursor(request.cursor, sortedCursor);
  if (after && after.o !== order) throw new ApiError(400, "validation_failed", "query.cursor belongs to another sort order", { details: [{ path: "query.cursor", message: "query.cursor belongs to another sort order" }] });
  const value = after ? (sort.kind === "date" ? new Date(after.v) : after.v) : undefined;
  const [beyond, atOrBeyond] = sort.direction === "desc" ? (["lt", "lte"] as const) : (["gt", "gte"] as const);
  // As in olderThan: the bound on the column alone lets the index scan start at the cursor.
  const position = after ? { AND: [{ [sort.column]: { [atOrBeyond]: value } }, { OR: [{ [sort.column]: { [beyond]: value } }, { id: { [beyond]: after.id } }] }] } : {};
  const orderBy = [{ [sort.column]: sort.direction }, { id: sort.direction }] as [{ [K in C]?: SortDirection }, { id: SortDirection }];
  return {
    args: <W extends object>(where: W) => ({ where: { AND: [where, position] } as W, orderBy, take: request.limit + 1 }),
    page: <T extends { id: string } & { [K in C]: Date | string }>(rows: T[]): Page<T> =>
      toPage(rows, request.limit, (row) => {
        const cell: Date | string = row[sort.column];
        return { o: order, v: cell instanceof Date ? cell.toISOString() : cell, id: row.id };
      }),
  };
}
