// Temporary: the run modules still import from here while their move is in progress.
export { sessionEnd, type Principal, type SessionEnd } from "../services/auth/tokens.server.ts";
