import { apiRoute } from "../server/api.server.ts";
import { schedulerStatus } from "../server/schedules.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/scheduler/status", summary: "Whether schedules fire, the scheduler's last tick and the schedules due next", permission: "scheduler:read", tags: ["scheduler"] },
  ({ db }) => schedulerStatus(db),
);
