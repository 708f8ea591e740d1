// Query of the audit log (GET /api/audit). Browser-safe.
import { z } from "zod";
import { pageQuery } from "./common.ts";

const isoDateTime = z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time such as 2026-11-26T10:00:00Z" });

/** Query of GET /api/audit. */
export const auditQuery = pageQuery.extend({
  /** A user id, or a username (matched case-insensitively, also for deleted users). */
  actor: z.string().trim().min(1).max(200).optional(),
  /** An exact action ("job.create"), or a prefix ending in "." or ".*" ("auth."). */
  action: z.string().trim().min(1).max(200).optional(),
  entityType: z.string().trim().min(1).max(100).optional(),
  entityId: z.string().trim().min(1).max(200).optional(),
  from: isoDateTime.optional(),
  to: isoDateTime.optional(),
});
export type AuditQuery = z.infer<typeof auditQuery>;

// A form's datetime-local field sends "2026-11-26T10:00" (no offset): the page reads it as UTC and
// says so in the field's label. Anything else must be an ISO 8601 date-time with an offset, as in the API.
const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;
const formDateTime = z
  .string()
  .trim()
  .transform((value) => (LOCAL_DATE_TIME.test(value) ? `${value}${value.length === 16 ? ":00" : ""}Z` : value))
  .pipe(isoDateTime);

/** Query of the Audit log page and its CSV export: the API's filters, with times from datetime-local fields read as UTC. */
export const auditPageQuery = auditQuery.extend({ from: formDateTime.optional(), to: formDateTime.optional() });
export type AuditPageQuery = z.infer<typeof auditPageQuery>;
