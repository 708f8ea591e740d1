// A list's order as it travels in the address: `?sort=name` ascending, `?sort=-name` descending.
// Browser-safe: the table's header links and the loaders' query schemas read it the same way.
import { z } from "zod";

/** Which way a list is ordered. */
export type SortDirection = "asc" | "desc";

/** A list's order: a column key and a direction. */
export interface SortOrder<K extends string = string> {
  key: K;
  direction: SortDirection;
}

/** The `sort` query value for `order`: the key, with a leading "-" when descending. */
export function sortValue(order: SortOrder): string {
  return order.direction === "desc" ? `-${order.key}` : order.key;
}

/** Reads a `sort` query value ("-createdAt"); null when it is not one of `keys`. */
export function parseSort<K extends string>(value: string, keys: readonly K[]): SortOrder<K> | null {
  const direction: SortDirection = value.startsWith("-") ? "desc" : "asc";
  const key = (direction === "desc" ? value.slice(1) : value) as K;
  return keys.includes(key) ? { key, direction } : null;
}

/**
 * A zod schema for a list's `sort` query parameter: one of `keys`, optionally prefixed with "-",
 * parsed into a SortOrder; `fallback` when the parameter is absent or empty.
 */
export function sortQuery<K extends string>(keys: readonly [K, ...K[]], fallback: SortOrder<NoInfer<K>>) {
  const allowed = keys.flatMap((key) => [key, `-${key}`]).join(", ");
  return z
    .string()
    .max(100)
    .optional()
    .transform((value, ctx): SortOrder<K> => {
      if (value === undefined || value === "") return fallback;
      const order = parseSort(value, keys);
      if (order) return order;
      ctx.addIssue({ code: "custom", message: `must be one of ${allowed}` });
      return z.NEVER;
    });
}
