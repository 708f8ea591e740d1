import { z } from "zod";
import { apiRoute, idParams, INT4_MIN, wholeNumber } from "../server/api.server.ts";
import type { DocumentedRoute } from "../server/openapi.server.ts";
import { resumeSequence } from "../server/run-events.server.ts";
import { runStreams } from "../server/run-streams.server.ts";

const definition = {
  method: "GET" as const,
  path: "/api/runs/{id}/events",
  summary: "Live run events (Server-Sent Events): run, step, output (id = sequence) and end, or error when the session ends; resumes after Last-Event-ID; 429 past the stream caps",
  permission: "runs:read" as const,
  params: idParams,
  query: z.object({ lastEventId: wholeNumber(INT4_MIN).optional().describe("Resume after this output sequence (the Last-Event-ID header wins)") }),
  tags: ["runs"],
  responseContentType: "text/event-stream",
} satisfies DocumentedRoute;

export const loader = apiRoute(definition, async ({ request, params, query, db, principal, signal }) =>
  runStreams().open(db, params.id, principal, resumeSequence(request, query.lastEventId), signal),
);
