// Temporary: the run modules still import from here while their move is in progress; the code lives
// in http/api-route.server.ts, schemas/common.ts and services/pagination.server.ts.
export { apiRoute, methods, type RouteContext } from "../http/api-route.server.ts";
export { idParams, INT4_MAX, INT4_MIN, pageQuery, wholeNumber } from "../schemas/common.ts";
export { decodeCursor, toPage } from "../services/pagination.server.ts";
