import { apiRoute } from "../http/api-route.server.ts";
import { schedulerStatus } from "../services/schedules/scheduler.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/scheduler/status", summary: "Whether schedules fire, the scheduler's last tick and the schedules due next", permission: "scheduler:read", tags: ["scheduler"] },
  ({ db }) => schedulerStatus(db),
);
