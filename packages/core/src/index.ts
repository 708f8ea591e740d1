// Public entry point of @opsconductor/core.
export * from "./schema.ts";
export { createKeyring, decryptSecret, encryptSecret, KeyringError, needsRewrap, rewrapSecret, SecretDecryptionError } from "./crypto.ts";
export type { Keyring, KeyringOptions, SealedSecret, SecretAadOptions, SecretDecryptionFailure } from "./crypto.ts";
export { runJob } from "./engine.ts";
export type { RunEvent, RunJobOptions, RunResult, RunStatus, StepResult, StepStatus } from "./engine.ts";
export { createLocalFileOpener, createWinRMExecutors, winrmConnectionOptions } from "./executors/winrm.ts";
export type { OpenedFile, OpenFile, WinRMClientLike, WinRMConnectionOptions, WinRMExecutorOptions, WinRMRunOptions, WinRMShellLike } from "./executors/winrm.ts";
