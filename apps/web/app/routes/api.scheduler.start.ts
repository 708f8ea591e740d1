import { apiRoute, methods } from "../server/api.server.ts";
import { setSchedulerEnabled } from "../server/schedules.server.ts";

export const action = methods({
  POST: apiRoute(
    { method: "POST", path: "/api/scheduler/start", summary: "Let schedules fire", permission: "scheduler:control", tags: ["scheduler"] },
    ({ db, principal, audit }) => setSchedulerEnabled(db, true, principal, audit),
  ),
});
