import { apiRoute } from "../server/api.server.ts";
import { listRuns, runListQuery } from "../server/runs.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/runs", summary: "List runs, newest first, filtered by job, status, trigger and time", permission: "runs:read", query: runListQuery, tags: ["runs"] },
  async ({ query, db }) => listRuns(db, query),
);
