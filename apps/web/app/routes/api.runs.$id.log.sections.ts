import { apiRoute } from "../http/api-route.server.ts";
import { idParams } from "../schemas/common.ts";
import { runLogSections } from "../services/runs/log.server.ts";

export const loader = apiRoute(
  {
    method: "GET",
    path: "/api/runs/{id}/log/sections",
    summary: "The structure of a run's log: the lines each step wrote, and the ::group:: / ::endgroup:: marker lines of nested sections",
    permission: "runs:read",
    params: idParams,
    tags: ["runs"],
  },
  async ({ params, db }) => runLogSections(db, params.id),
);
