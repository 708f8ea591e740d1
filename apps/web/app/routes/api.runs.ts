import { apiRoute } from "../http/api-route.server.ts";
import { runListQuery } from "../schemas/runs.ts";
import { listRuns } from "../services/runs/queries.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/runs", summary: "List runs, newest first, filtered by job, status, trigger and time", permission: "runs:read", query: runListQuery, tags: ["runs"] },
  async ({ query, db }) => listRuns(db, query),
);
