import { apiRoute, methods } from "../server/api.server.ts";
import { setSchedulerEnabled } from "../server/schedules.server.ts";

export const action = methods({
  POST: apiRoute(
    { method: "POST", path: "/api/scheduler/stop", summary: "Stop schedules from firing (manual runs still work)", permission: "scheduler:control", tags: ["scheduler"] },
    ({ db, principal, audit }) => setSchedulerEnabled(db, false, principal, audit),
  ),
});
