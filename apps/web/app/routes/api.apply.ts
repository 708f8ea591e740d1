import { apiRoute, methods } from "../http/api-route.server.ts";
import { can } from "../lib/permissions.ts";
import { applyQuery, configDocument } from "../schemas/config-document.ts";
import { applyConfiguration } from "../services/config/apply.server.ts";

export const action = methods({
  POST: apiRoute(
    {
      method: "POST",
      path: "/api/apply",
      summary: "Apply a configuration document (as GET /api/export writes it, sent as JSON) in one transaction: creates and changes what differs, deletes what it leaves out with prune=true; dryRun=true answers the same diff and changes nothing",
      permission: "config:apply",
      query: applyQuery,
      body: configDocument,
      tags: ["config"],
    },
    ({ db, body, query, principal, audit }) => applyConfiguration(db, body, { dryRun: query.dryRun, prune: query.prune }, principal, audit, { bindAnywhere: can(principal.role, "credentials:bind_any") }),
  ),
});
