import { apiRoute } from "../http/api-route.server.ts";
import { idParams, pageQuery } from "../schemas/common.ts";
import { listVersions } from "../services/jobs/queries.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/jobs/{id}/versions", summary: "A job's versions, newest first", permission: "jobs:read", params: idParams, query: pageQuery, tags: ["jobs"] },
  ({ db, params, query }) => listVersions(db, params.id, query),
);
