import { apiRoute, methods, reply } from "../http/api-route.server.ts";
import { idParams } from "../schemas/common.ts";
import { cancelRun } from "../services/runs/commands.server.ts";

export const action = methods({
  POST: apiRoute(
    {
      method: "POST",
      path: "/api/runs/{id}/cancel",
      summary: "Cancel a run: a queued run ends at once (200), a running one is asked to stop (202); a finished run is a 409",
      permission: "runs:cancel",
      params: idParams,
      status: 202,
      tags: ["runs"],
    },
    async ({ params, principal, db, audit }) => {
      const { immediate, run } = await cancelRun(db, params.id, principal, audit);
      return reply({ status: immediate ? 200 : 202, body: { run } });
    },
  ),
});
