// Temporary: the job modules still import from here while their move is in progress.
export { keyring } from "../services/credentials/keyring.server.ts";
