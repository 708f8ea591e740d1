import { z } from "zod";
import { apiRoute, idParams } from "../server/api.server.ts";
import { getVersion } from "../server/jobs.server.ts";

const params = idParams.extend({ number: z.coerce.number({ error: "must be a version number" }).int("must be a version number").min(1, "must be 1 or greater") });

export const loader = apiRoute(
  { method: "GET", path: "/api/jobs/{id}/versions/{number}", summary: "One version of a job with its definition", permission: "jobs:read", params, tags: ["jobs"] },
  ({ db, params }) => getVersion(db, params.id, params.number),
);
