import { apiRoute } from "../http/api-route.server.ts";
import { idParams, INT4_MAX, wholeNumber } from "../schemas/common.ts";
import { getVersion } from "../server/jobs.server.ts";

const params = idParams.extend({ number: wholeNumber(1, INT4_MAX, "a version number") });

export const loader = apiRoute(
  { method: "GET", path: "/api/jobs/{id}/versions/{number}", summary: "One version of a job with its definition", permission: "jobs:read", params, tags: ["jobs"] },
  ({ db, params }) => getVersion(db, params.id, params.number),
);
