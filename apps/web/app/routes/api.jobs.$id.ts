import { apiRoute, methods } from "../http/api-route.server.ts";
import { idParams } from "../schemas/common.ts";
import { jobActiveBody, jobDefinitionBody } from "../schemas/jobs.ts";
import { addVersion, deleteJob, setJobActive, setJobRetention } from "../services/jobs/commands.server.ts";
import { getJob } from "../services/jobs/queries.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/jobs/{id}", summary: "A job with its current version and definition", permission: "jobs:read", params: idParams, tags: ["jobs"] },
  ({ db, params }) => getJob(db, params.id),
);

export const action = methods({
  PUT: apiRoute(
    { method: "PUT", path: "/api/jobs/{id}", summary: "Save a new definition as the job's next immutable version", permission: "jobs:write", params: idParams, body: jobDefinitionBody, tags: ["jobs"] },
    ({ db, params, body, principal, audit }) => addVersion(db, params.id, body, principal, audit),
  ),
  PATCH: apiRoute(
    { method: "PATCH", path: "/api/jobs/{id}", summary: "Activate or deactivate a job, and/or set its retention policy", permission: "jobs:write", params: idParams, body: jobActiveBody, tags: ["jobs"] },
    async ({ db, params, body, principal, audit }) => {
      if (body.retention) await setJobRetention(db, params.id, body.retention, principal, audit);
      return body.active === undefined ? getJob(db, params.id) : setJobActive(db, params.id, body.active, principal, audit);
    },
  ),
  DELETE: apiRoute(
    { method: "DELETE", path: "/api/jobs/{id}", summary: "Delete a job with its versions, runs and schedules", permission: "jobs:write", params: idParams, status: 204, tags: ["jobs"] },
    ({ db, params, principal, audit }) => deleteJob(db, params.id, principal, audit),
  ),
});
