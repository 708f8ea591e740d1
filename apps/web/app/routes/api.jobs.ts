import { z } from "zod";
import { apiRoute, methods } from "../http/api-route.server.ts";
import { booleanQuery, pageQuery } from "../schemas/common.ts";
import { createJob, jobDefinitionBody, listJobs } from "../server/jobs.server.ts";

const listQuery = pageQuery.extend({ q: z.string().trim().min(1).max(200).optional(), active: booleanQuery.optional() });

export const loader = apiRoute(
  { method: "GET", path: "/api/jobs", summary: "List jobs, newest first", permission: "jobs:read", query: listQuery, tags: ["jobs"] },
  ({ db, query }) => listJobs(db, query),
);

export const action = methods({
  POST: apiRoute(
    { method: "POST", path: "/api/jobs", summary: "Create a job from a definition (its first version)", permission: "jobs:write", body: jobDefinitionBody, status: 201, tags: ["jobs"] },
    ({ db, body, principal, audit }) => createJob(db, body, principal, audit),
  ),
});
