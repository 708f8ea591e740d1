import { apiRoute } from "../http/api-route.server.ts";
import { queueStatus } from "../services/queue-status.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/executor/status", summary: "Run-queue counts by state, runs in progress and workers with whether each is online", permission: "executor:read", tags: ["executor"] },
  ({ db }) => queueStatus(db),
);
