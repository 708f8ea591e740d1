// Public entry point of @opsconductor/core.
export { parameterTypes } from "./contracts.ts";
export type {
  Credential,
  InterpolateOptions,
  InterpolationShell,
  OutputStream,
  ParameterDeclaration,
  ParameterType,
  ParameterValue,
  RunnableDefinition,
  RunnableStep,
  RunResources,
  StepContext,
  StepExecutor,
  StepOutcome,
  Target,
} from "./contracts.ts";
export {
  createJobDefinitionSchema,
  createStepTypeRegistry,
  defaultStepTypes,
  defineStepType,
  jobDefinitionJsonSchema,
  jobDefinitionSchema,
  JobDefinitionError,
  parameterDeclarationSchema,
  parameterSchema,
  parseJobDefinition,
  retryPolicySchema,
  stepBaseShape,
  winrmCopyStepType,
  winrmExecStepType,
} from "./definition.ts";
export type {
  CustomJobDefinition,
  JobDefinition,
  JobDefinitionInput,
  JobStep,
  ParseJobDefinitionOptions,
  RetryPolicy,
  StepType,
  StepTypeRegistry,
  WinRMCopyStep,
  WinRMExecStep,
} from "./definition.ts";
export { formatPath, formatZodIssues } from "./issues.ts";
export type { ValidationIssue } from "./issues.ts";
export { checkParameterValue, ParameterError, resolveParameters } from "./parameters.ts";
export type { ResolvedParameters } from "./parameters.ts";
export {
  interpolate,
  InterpolationError,
  listPlaceholders,
  POWERSHELL_DOUBLE_QUOTES,
  POWERSHELL_SINGLE_QUOTES,
  quoteCmd,
  quotePowerShell,
} from "./interpolate.ts";
export type { Placeholder } from "./interpolate.ts";
export { createKeyring, decryptSecret, encryptSecret, KeyringError, needsRewrap, rewrapSecret, SecretDecryptionError } from "./crypto.ts";
export type { Keyring, KeyringOptions, SealedSecret, SecretAadOptions, SecretDecryptionFailure } from "./crypto.ts";
export { createSecretMasker, MASK } from "./masker.ts";
export type { SecretMasker, SecretMaskStream } from "./masker.ts";
export { cronInstants, isValidCron, isValidTimeZone, nextInstant, nextInstants, validateCron } from "./cron.ts";
export type { CronProblem } from "./cron.ts";
export { runJob } from "./engine.ts";
export type { RunEvent, RunJobOptions, RunResult, RunStatus, StepResult, StepStatus } from "./engine.ts";
export { createLocalFileOpener, createWinRMExecutors, winrmConnectionOptions } from "./executors/winrm.ts";
export type { OpenedFile, OpenFile, WinRMClientLike, WinRMConnectionOptions, WinRMExecutorOptions, WinRMRunOptions, WinRMShellLike } from "./executors/winrm.ts";
