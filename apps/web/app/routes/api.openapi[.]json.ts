import { apiRoute } from "../http/api-route.server.ts";
import { openApiDocument, type DocumentedRoute } from "../http/openapi.server.ts";

const definition: DocumentedRoute = { method: "GET", path: "/api/openapi.json", summary: "This API's OpenAPI 3.1 description", permission: "public", tags: ["meta"] };

export const loader = apiRoute(definition, async () => openApiDocument([definition]));
