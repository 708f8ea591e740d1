import { apiRoute, methods } from "../http/api-route.server.ts";
import { idParams } from "../schemas/common.ts";
import { updateScheduleBody } from "../schemas/schedules.ts";
import { deleteSchedule, updateSchedule } from "../services/schedules/commands.server.ts";
import { getSchedule } from "../services/schedules/queries.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/schedules/{id}", summary: "A schedule with its next instants", permission: "schedules:read", params: idParams, tags: ["schedules"] },
  ({ db, params }) => getSchedule(db, params.id),
);

export const action = methods({
  PATCH: apiRoute(
    { method: "PATCH", path: "/api/schedules/{id}", summary: "Change any field of a schedule except its job", permission: "schedules:write", params: idParams, body: updateScheduleBody, tags: ["schedules"] },
    ({ db, params, body, principal, audit }) => updateSchedule(db, params.id, body, principal, audit),
  ),
  DELETE: apiRoute(
    { method: "DELETE", path: "/api/schedules/{id}", summary: "Delete a schedule", permission: "schedules:write", params: idParams, status: 204, tags: ["schedules"] },
    ({ db, params, principal, audit }) => deleteSchedule(db, params.id, principal, audit),
  ),
});
