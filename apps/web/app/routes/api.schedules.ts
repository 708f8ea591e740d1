import { z } from "zod";
import { apiRoute, methods, pageQuery } from "../server/api.server.ts";
import { booleanQuery } from "../server/jobs.server.ts";
import { createSchedule, createScheduleBody, listSchedules } from "../server/schedules.server.ts";

const listQuery = pageQuery.extend({ jobId: z.uuid({ error: "must be a job id (UUID)" }).optional(), enabled: booleanQuery.optional() });

export const loader = apiRoute(
  { method: "GET", path: "/api/schedules", summary: "List schedules, newest first, each with its next instants", permission: "schedules:read", query: listQuery, tags: ["schedules"] },
  ({ db, query }) => listSchedules(db, query),
);

export const action = methods({
  POST: apiRoute(
    { method: "POST", path: "/api/schedules", summary: "Schedule a job on a cron expression in an IANA time zone", permission: "schedules:write", body: createScheduleBody, status: 201, tags: ["schedules"] },
    ({ db, body, principal, audit }) => createSchedule(db, body, principal, audit),
  ),
});
