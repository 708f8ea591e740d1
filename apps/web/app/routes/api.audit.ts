import { apiRoute } from "../server/api.server.ts";
import { auditQuery, listAudit } from "../server/audit-query.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/audit", summary: "The audit log, newest first, filtered by actor, action, entity and time", permission: "audit:read", query: auditQuery, tags: ["audit"] },
  ({ db, query }) => listAudit(db, query),
);
