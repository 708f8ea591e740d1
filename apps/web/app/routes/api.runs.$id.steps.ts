import { apiRoute, idParams } from "../server/api.server.ts";
import { getRunSteps, runStepsQuery } from "../server/runs.server.ts";

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
