// Public entry point of the package.
export { WinRMClient, WinRMShell, powershellCommand } from "./client.ts";
export type { CommandResult, CopyOptions, CopyProgress, CopyResult, RunOptions, StdinSource, WinRMClientOptions } from "./client.ts";
export type { IdentifyResult } from "./soap.ts";
export type { TransportStats } from "./transport.ts";
export {
  WinRMAuthError,
  WinRMConnectionError,
  WinRMCopyError,
  WinRMError,
  WinRMFaultError,
  WinRMHttpError,
  WinRMTimeoutError,
} from "./errors.ts";
export { FAULT_CODES } from "./soap.ts";
