// Query of the audit log (GET /api/audit). Browser-safe.
import { z } from "zod";
import { formDateTime, isoDateTime, pageQuery } from "./common.ts";


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


/** Query of the Audit log page and its CSV export: the API's filters, with times from datetime-local fields read as UTC. */
export const auditPageQuery = auditQuery.extend({ from: formDateTime.optional(), to: formDateTime.optional() });
export type AuditPageQuery = z.infer<typeof auditPageQuery>;
