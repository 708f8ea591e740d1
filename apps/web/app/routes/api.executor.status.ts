import { apiRoute } from "../server/api.server.ts";
import { executorStatus } from "../server/executor.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/executor/status", summary: "Run-queue counts by state, runs in progress and workers with whether each is online", permission: "executor:read", tags: ["executor"] },
  ({ db }) => executorStatus(db),
);
