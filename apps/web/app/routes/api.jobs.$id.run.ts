import { apiRoute, methods, reply } from "../http/api-route.server.ts";
import { idParams } from "../schemas/common.ts";
import { runRequestBody } from "../schemas/jobs.ts";
import { queue } from "../services/queue.server.ts";
import { requestRun } from "../services/runs/request-run.server.ts";

export const action = methods({
  POST: apiRoute(
    {
      method: "POST",
      path: "/api/jobs/{id}/run",
      summary: "Queue a run of the job's current version (202; 200 with created: false for a repeated idempotency key)",
      permission: "jobs:run",
      params: idParams,
      body: runRequestBody,
      status: 202,
      tags: ["jobs", "runs"],
    },
    async ({ db, params, body, principal, audit }) => {
      const result = await requestRun(db, await queue(), params.id, body ?? {}, principal, audit);
      return reply({ status: result.created ? 202 : 200, body: result });
    },
  ),
});
