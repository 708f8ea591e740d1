import { apiRoute } from "../http/api-route.server.ts";
import { idParams } from "../schemas/common.ts";
import { runStepsQuery } from "../schemas/runs.ts";
import { getRunSteps } from "../services/runs/queries.server.ts";

export const loader = apiRoute(
  {
    method: "GET",
    path: "/api/runs/{id}/steps",
    summary: "A run's steps in order with their output (at most 1 MB of text per answer; page on with afterSequence)",
    permission: "runs:read",
    params: idParams,
    query: runStepsQuery,
    tags: ["runs"],
  },
  async ({ params, query, db }) => getRunSteps(db, params.id, query.afterSequence),
);
