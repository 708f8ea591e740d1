// Schema pieces many API routes and forms share. Browser-safe: no server code, no node builtins.
import { z } from "zod";

/** Bounds of PostgreSQL's integer, the type of every integer column the API filters on. */
export const INT4_MIN = -2_147_483_648;
export const INT4_MAX = 2_147_483_647;

/** A whole number from a path or query string (or a cursor), within `min`..`max` (at most the int4 range). */
export function wholeNumber(min: number, max = INT4_MAX, what = "a whole number") {
  const range = `must be ${what} from ${min} to ${max}`;
  return z.coerce.number({ error: range }).int(range).min(min, range).max(max, range);
}

/** Path parameters of a route about one entity. */
export const idParams = z.object({ id: z.uuid({ error: "must be a UUID" }) });

/** `?limit=&cursor=` of every list. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
});

/** A `true`/`false` query parameter. */
export const booleanQuery = z.enum(["true", "false"], { error: 'must be "true" or "false"' }).transform((v) => v === "true");

/** An ISO 8601 date-time with an offset, as every API time filter takes. */
export const isoDateTime = z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time such as 2026-11-26T10:00:00Z" });

// A form's datetime-local field sends "2026-11-26T10:00" (no offset).
const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;

/**
 * A time filter of a page: a datetime-local field's value read as UTC (the page says so in the
 * field's label), or an ISO 8601 date-time with an offset, as in the API.
 */
export const formDateTime = z
  .string()
  .trim()
  .transform((value) => (LOCAL_DATE_TIME.test(value) ? `${value}${value.length === 16 ? ":00" : ""}Z` : value))
  .pipe(isoDateTime);
