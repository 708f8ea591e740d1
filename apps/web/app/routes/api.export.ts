import { apiRoute } from "../http/api-route.server.ts";
import { exportQuery } from "../schemas/config-document.ts";
import { exportConfiguration, serializeDocument } from "../services/config/export.server.ts";

export const loader = apiRoute(
  {
    method: "GET",
    path: "/api/export",
    summary: "The configuration as one document (YAML or JSON): jobs at their current versions, targets (credentials by name, never secrets), schedules and the library files the jobs copy (by name and SHA-256)",
    permission: "config:export",
    query: exportQuery,
    tags: ["config"],
  },
  async ({ db, query, request }) => {
    const document = await exportConfiguration(db, { instance: new URL(request.url).host });
    const { body, contentType } = serializeDocument(document, query.format);
    return new Response(body, { status: 200, headers: { "Content-Type": contentType, "Cache-Control": "no-store", "Content-Disposition": `attachment; filename="opsconductor-config.${query.format}"` } });
  },
);
