import { apiRoute } from "../http/api-route.server.ts";
import { auditQuery } from "../schemas/audit.ts";
import { listAudit } from "../services/audit/queries.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/audit", summary: "The audit log, newest first, filtered by actor, action, entity and time", permission: "audit:read", query: auditQuery, tags: ["audit"] },
  ({ db, query }) => listAudit(db, query),
);
