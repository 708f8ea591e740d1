// Temporary: the run routes still import from here while their move is in progress.
export type { DocumentedRoute } from "../http/openapi.server.ts";
