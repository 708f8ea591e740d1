import { can } from "../lib/permissions.ts";
import { apiRoute, methods } from "../http/api-route.server.ts";
import { idParams } from "../schemas/common.ts";
import { updateTargetBody } from "../schemas/targets.ts";
import { deleteTarget, updateTarget } from "../services/targets/commands.server.ts";
import { getTarget } from "../services/targets/queries.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/targets/{id}", summary: "Get a target", permission: "targets:read", params: idParams, tags: ["targets"] },
  ({ db, params }) => getTarget(db, params.id),
);

export const action = methods({
  PUT: apiRoute(
    { method: "PUT", path: "/api/targets/{id}", summary: "Update a target; fields left out keep their value. Binding a credential, or re-pointing a target that has one, follows its usage policy unless the caller is an admin", permission: "targets:write", params: idParams, body: updateTargetBody, tags: ["targets"] },
    ({ db, params, body, audit, principal }) => updateTarget(db, params.id, body, audit, { bindAnywhere: can(principal.role, "credentials:bind_any") }),
  ),
  DELETE: apiRoute(
    { method: "DELETE", path: "/api/targets/{id}", summary: "Delete a target; refused (409) while the current version of a job names it in a step", permission: "targets:write", params: idParams, status: 204, tags: ["targets"] },
    ({ db, params, audit }) => deleteTarget(db, params.id, audit),
  ),
});
