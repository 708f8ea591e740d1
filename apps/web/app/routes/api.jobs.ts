import { apiRoute, methods } from "../http/api-route.server.ts";
import { jobDefinitionBody, jobListQuery } from "../schemas/jobs.ts";
import { createJob } from "../services/jobs/commands.server.ts";
import { listJobs } from "../services/jobs/queries.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/jobs", summary: "List jobs, newest first unless ?sort= (name, updatedAt, createdAt; - for descending) says otherwise", permission: "jobs:read", query: jobListQuery, tags: ["jobs"] },
  ({ db, query }) => listJobs(db, query),
);

export const action = methods({
  POST: apiRoute(
    { method: "POST", path: "/api/jobs", summary: "Create a job from a definition (its first version)", permission: "jobs:write", body: jobDefinitionBody, status: 201, tags: ["jobs"] },
    ({ db, body, principal, audit }) => createJob(db, body, principal, audit),
  ),
});
