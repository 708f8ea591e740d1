import { apiRoute } from "../http/api-route.server.ts";
import type { DocumentedRoute } from "../http/openapi.server.ts";
import { idParams } from "../schemas/common.ts";
import { runEventsQuery } from "../schemas/runs.ts";
import { resumeSequence } from "../services/runs/run-events.server.ts";
import { runStreams } from "../services/runs/run-streams.server.ts";

const definition = {
  method: "GET" as const,
  path: "/api/runs/{id}/events",
  summary: "Live run events (Server-Sent Events): run, step, output (id = sequence) and end, or error when the session ends; resumes after Last-Event-ID; 429 past the stream caps",
  permission: "runs:read" as const,
  params: idParams,
  query: runEventsQuery,
  tags: ["runs"],
  responseContentType: "text/event-stream",
} satisfies DocumentedRoute;

export const loader = apiRoute(definition, async ({ request, params, query, db, principal, signal }) =>
  runStreams().open(db, params.id, principal, resumeSequence(request.headers.get("last-event-id"), query.lastEventId), signal),
);
