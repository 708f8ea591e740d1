import { can } from "../lib/permissions.ts";
import { apiRoute, methods } from "../http/api-route.server.ts";
import { createTargetBody, targetListQuery } from "../schemas/targets.ts";
import { createTarget } from "../services/targets/commands.server.ts";
import { listTargets } from "../services/targets/queries.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/targets", summary: "List targets, newest first, by tag, OS or text", permission: "targets:read", query: targetListQuery, tags: ["targets"] },
  ({ db, query }) => listTargets(db, query),
);

export const action = methods({
  POST: apiRoute(
    { method: "POST", path: "/api/targets", summary: "Register a target; a credential binds only to a host its usage policy lists, unless the caller is an admin", permission: "targets:write", body: createTargetBody, status: 201, tags: ["targets"] },
    ({ db, body, audit, principal }) => createTarget(db, body, audit, { bindAnywhere: can(principal.role, "credentials:bind_any") }),
  ),
});
