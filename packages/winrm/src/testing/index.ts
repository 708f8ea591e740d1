// @opsconductor/winrm/testing: an in-process WinRM server for tests (see README.md).
export { startWinRMTestServer } from "./server.ts";
export type { WinRMTestAuth, WinRMTestServer, WinRMTestServerOptions, WinRMTestServerStats } from "./server.ts";
export { CMD_FILE_MARKER, COPY_MARKER, COPY_PARTIAL_SUFFIX, STDIN_MARKER, clixmlError, defaultCommandHandler, normalizeWindowsPath } from "./handler.ts";
export type { CommandOutput, WinRMCommandContext, WinRMCommandHandler } from "./handler.ts";
export { createSelfSignedCertificate } from "./cert.ts";
export type { SelfSignedCertificate } from "./cert.ts";
