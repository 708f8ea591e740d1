import { apiRoute, methods } from "../http/api-route.server.ts";
import { idParams } from "../schemas/common.ts";
import { rerunRun } from "../services/runs/commands.server.ts";

export const action = methods({
  POST: apiRoute(
    {
      method: "POST",
      path: "/api/runs/{id}/rerun",
      summary: "Queue a new run of the same job version with the same parameters (409 when it had secret parameters)",
      permission: "jobs:run",
      params: idParams,
      status: 202,
      tags: ["runs"],
    },
    async ({ params, principal, db, audit }) => rerunRun(db, params.id, principal, audit),
  ),
});
