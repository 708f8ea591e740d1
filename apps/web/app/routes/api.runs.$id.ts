import { apiRoute, idParams } from "../server/api.server.ts";
import { getRun } from "../server/runs.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/runs/{id}", summary: "One run: job, version, parameters, status, timings and error", permission: "runs:read", params: idParams, tags: ["runs"] },
  async ({ params, db }) => getRun(db, params.id),
);
