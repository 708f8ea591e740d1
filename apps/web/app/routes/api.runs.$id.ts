import { apiRoute } from "../http/api-route.server.ts";
import { idParams } from "../schemas/common.ts";
import { getRun } from "../services/runs/queries.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/runs/{id}", summary: "One run: job, version, parameters, status, timings and error", permission: "runs:read", params: idParams, tags: ["runs"] },
  async ({ params, db }) => getRun(db, params.id),
);
