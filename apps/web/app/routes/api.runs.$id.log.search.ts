import { apiRoute } from "../http/api-route.server.ts";
import { idParams } from "../schemas/common.ts";
import { runLogSearchQuery } from "../schemas/runs.ts";
import { searchRunLog } from "../services/runs/log.server.ts";

export const loader = apiRoute(
  {
    method: "GET",
    path: "/api/runs/{id}/log/search",
    summary: "Search a run's whole log: how many lines match, and their numbers (after or before a line, a page at a time)",
    permission: "runs:read",
    params: idParams,
    query: runLogSearchQuery,
    tags: ["runs"],
  },
  async ({ params, query, db }) => searchRunLog(db, params.id, query),
);
