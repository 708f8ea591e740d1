import { apiRoute } from "../http/api-route.server.ts";
import { jobVersionParams } from "../schemas/jobs.ts";
import { getVersion } from "../services/jobs/queries.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/jobs/{id}/versions/{number}", summary: "One version of a job with its definition", permission: "jobs:read", params: jobVersionParams, tags: ["jobs"] },
  ({ db, params }) => getVersion(db, params.id, params.number),
);
