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
