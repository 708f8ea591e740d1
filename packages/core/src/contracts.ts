// What the modules of core share: parameter types and declarations, and the contract between the
// run engine and step executors. It imports nothing, so every other module can depend on it.

/** The kinds of value a job parameter can hold. */
export const parameterTypes = Object.freeze(["string", "number", "boolean", "enum", "secret"] as const);
/** The kind of value a job parameter holds. */
export type ParameterType = (typeof parameterTypes)[number];

/** A parameter's value once resolved. */
export type ParameterValue = string | number | boolean;

/** A parameter declaration after parsing: shorthand defaults are expanded and `required` is explicit. */
export interface ParameterDeclaration {
  type: ParameterType;
  required: boolean;
  default?: ParameterValue;
  description?: string;
  pattern?: string;
  min?: number;
  max?: number;
  values?: string[];
}

/** How placeholder values are written into a template: quoted for a shell, or as plain text. */
export type InterpolationShell = "powershell" | "cmd" | "text";

/** Options for `interpolate`. */
export interface InterpolateOptions {
  /** The language the result is run by; values are quoted by its rules (`text`: inserted as they are). */
  shell: InterpolationShell;
}

/** A machine steps run on. Map your own records (e.g. database rows) to this shape in `resolveTarget`. */
export interface Target {
  id: string;
  name: string;
  hostname: string;
  /** WinRM port; defaults to 5985 for http and 5986 for https. */
  port?: number;
  os?: "windows" | "linux";
  /** Id of the credential used to reach the target, passed back to `resolveCredential`. */
  credentialId?: string | null;
  winrm?: {
    transport?: "http" | "https";
    auth?: "basic" | "ntlm";
    /** Allow Basic auth or unsigned messages over plain http (off by default). */
    allowUnencrypted?: boolean;
    /** PEM certificate(s) to trust for https. */
    caCertificate?: string | null;
    rejectUnauthorized?: boolean;
    operationTimeoutSec?: number;
    connectTimeoutSec?: number;
  };
}

/** A login for a target, with its secret already decrypted. The password is masked in every event. */
export interface Credential {
  id: string;
  name: string;
  type: "password";
  username: string;
  domain?: string | null;
  secret: { password: string };
}

/** A step as the engine sees it: the common fields plus the step type's own. */
export interface RunnableStep {
  type: string;
  id?: string | undefined;
  name?: string | undefined;
  target?: string | undefined;
  timeoutSec: number;
  continueOnError: boolean;
  [field: string]: unknown;
}

/** The parts of a parsed job definition the engine needs (a `JobDefinition` fits). */
export interface RunnableDefinition {
  name: string;
  version: number;
  parameters: Readonly<Record<string, ParameterDeclaration>>;
  steps: readonly RunnableStep[];
}

/** What an executor gets for one step. */
export interface StepContext<S extends RunnableStep = RunnableStep> {
  step: S;
  stepIndex: number;
  /** The resolved target, if the step names one. */
  target: Target | undefined;
  /** The target's credential, if it has one. */
  credential: Credential | undefined;
  /** Resolved parameter values (secret ones included: keep them out of errors). */
  params: Readonly<Record<string, ParameterValue>>;
  /** Aborted when the step times out or the run is canceled; stop work and reject or return. */
  signal: AbortSignal;
  timeoutSec: number;
  /** Interpolates the run's parameters into a template for a shell (see `interpolate`). */
  interpolate(template: string, options: InterpolateOptions): string;
  /** Streams output; it is masked before anyone sees it. */
  output(stream: OutputStream, text: string): void;
  /** What the run's steps share (connections, shells); `runJob` always provides it. */
  resources?: RunResources;
}

/**
 * Things a run opens once and its steps share, such as one WinRM connection and shell per target;
 * `runJob` closes them, newest first, when the run ends, canceled and failed runs included.
 */
export interface RunResources {
  /** The value kept under `key`, opened on first use; a failed `open` is forgotten so a later step tries again. */
  use<T>(key: string, open: () => T | Promise<T>, close: (value: T) => void | Promise<void>): Promise<T>;
}

/** How an executor's step ended: a non-zero exit code fails the step unless `status` says otherwise. */
export interface StepOutcome {
  exitCode?: number | null;
  status?: "succeeded" | "failed";
  error?: string;
}

/** Runs one step of a given type. */
export type StepExecutor = (context: StepContext) => Promise<StepOutcome | void>;

/** A step output stream. */
export type OutputStream = "stdout" | "stderr";
