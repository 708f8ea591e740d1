import { apiRoute } from "../http/api-route.server.ts";
import { idParams } from "../schemas/common.ts";
import { runLogQuery } from "../schemas/runs.ts";
import { readRunLog } from "../services/runs/log.server.ts";

export const loader = apiRoute(
  {
    method: "GET",
    path: "/api/runs/{id}/log",
    summary: "A range of a run's log lines (numbered from 1 across the run; each of one step and stream), with the log's line count and the last output sequence they cover (resume live events after it)",
    permission: "runs:read",
    params: idParams,
    query: runLogQuery,
    tags: ["runs"],
  },
  async ({ params, query, db }) => readRunLog(db, params.id, query.from, query.count),
);
