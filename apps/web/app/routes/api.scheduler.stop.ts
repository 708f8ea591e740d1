import { apiRoute, methods } from "../http/api-route.server.ts";
import { setSchedulerEnabled } from "../services/schedules/scheduler.server.ts";

export const action = methods({
  POST: apiRoute(
    { method: "POST", path: "/api/scheduler/stop", summary: "Stop schedules from firing (manual runs still work)", permission: "scheduler:control", tags: ["scheduler"] },
    ({ db, principal, audit }) => setSchedulerEnabled(db, false, principal, audit),
  ),
});
