// Temporary: the run modules still import from here while their move is in progress.
export { ApiError, notFound, type ErrorDetail } from "../services/errors.server.ts";
