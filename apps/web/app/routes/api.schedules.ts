import { apiRoute, methods } from "../http/api-route.server.ts";
import { createScheduleBody, scheduleListQuery } from "../schemas/schedules.ts";
import { createSchedule } from "../services/schedules/commands.server.ts";
import { listSchedules } from "../services/schedules/queries.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/schedules", summary: "List schedules, newest first, each with its next instants", permission: "schedules:read", query: scheduleListQuery, tags: ["schedules"] },
  ({ db, query }) => listSchedules(db, query),
);

export const action = methods({
  POST: apiRoute(
    { method: "POST", path: "/api/schedules", summary: "Schedule a job on a cron expression in an IANA time zone", permission: "schedules:write", body: createScheduleBody, status: 201, tags: ["schedules"] },
    ({ db, body, principal, audit }) => createSchedule(db, body, principal, audit),
  ),
});
