import { apiRoute } from "../http/api-route.server.ts";
import type { DocumentedRoute } from "../http/openapi.server.ts";
import { idParams } from "../schemas/common.ts";
import { runLogDownload } from "../services/runs/log.server.ts";

const definition = {
  method: "GET" as const,
  path: "/api/runs/{id}/log.txt",
  summary: "A run's whole output as plain text, every stream in the order it was written, streamed as a download",
  permission: "runs:read" as const,
  params: idParams,
  tags: ["runs"],
  responseContentType: "text/plain",
} satisfies DocumentedRoute;

export const loader = apiRoute(definition, async ({ params, db, signal }) => runLogDownload(db, params.id, signal));
