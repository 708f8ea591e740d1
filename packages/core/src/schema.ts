// @opsconductor/core/schema: the parts of core that need no Node.js built-ins (job definitions,
// parameters, interpolation, masking, cron), so a browser form validates with the same schemas.
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
export { createSecretMasker, MASK } from "./masker.ts";
export type { SecretMasker, SecretMaskStream } from "./masker.ts";
export { cronInstants, cronPreview, isValidCron, isValidTimeZone, nextInstant, nextInstants, validateCron, zoneOffsetMs } from "./cron.ts";
export type { CronDstMark, CronPreviewInstant, CronProblem } from "./cron.ts";
