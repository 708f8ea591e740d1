// Temporary: the job modules still import from here while their move is in progress.
export { fileLinkError, pinFiles } from "../services/files/job-files.server.ts";
