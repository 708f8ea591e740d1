import { z } from "zod";
import { apiRoute, idParams, methods } from "../server/api.server.ts";
import { requestRun } from "../server/jobs.server.ts";
import { queue } from "../server/queue.server.ts";

const body = z
  .strictObject({
    parameters: z.record(z.string(), z.unknown()).optional(),
    idempotencyKey: z.string().min(1).max(200).optional(),
  })
  .optional();

export const action = methods({
  POST: apiRoute(
    {
      method: "POST",
      path: "/api/jobs/{id}/run",
      summary: "Queue a run of the job's current version (202; 200 with created: false for a repeated idempotency key)",
      permission: "jobs:run",
      params: idParams,
      body,
      status: 202,
      tags: ["jobs", "runs"],
    },
    async ({ db, params, body, principal, audit }) => {
      const result = await requestRun(db, await queue(), params.id, body ?? {}, principal, audit);
      return result.created ? result : Response.json(result, { status: 200, headers: { "Cache-Control": "no-store" } });
    },
  ),
});
