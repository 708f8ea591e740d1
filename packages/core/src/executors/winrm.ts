import type { Readable } from "node:stream";
import type { Credential, StepContext, StepExecutor, StepOutcome, Target } from "../engine.ts";

/** Connection options for a WinRM client, derived from a target and its credential. */
export interface WinRMConnectionOptions {
  host: string;
  port: number;
  transport: "http" | "https";
  auth: "basic" | "ntlm";
  username: string;
  password: string;
  domain?: string;
  ca?: string;
  rejectUnauthorized?: boolean;
  allowUnencrypted?: boolean;
  operationTimeoutSec?: number;
  connectTimeoutSec?: number;
}

/** Options for running a command on a WinRM client. */
export interface WinRMRunOptions {
  signal?: AbortSignal;
  timeoutSec?: number;
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
}

/** The part of a WinRM client (such as `@opsconductor/winrm`'s) the executors use. */
export interface WinRMClientLike {
  runPowerShell(script: string, options?: WinRMRunOptions): Promise<{ exitCode: number | null | undefined }>;
  runCmd(command: string, args?: readonly string[], options?: WinRMRunOptions): Promise<{ exitCode: number | null | undefined }>;
  /** Copies bytes (a Buffer or a stream) or the local file at a path (a string) to `remotePath`. */
  copyFile(
    source: Buffer | Readable | string,
    remotePath: string,
    options?: { overwrite?: boolean; signal?: AbortSignal; onProgress?: (progress: unknown) => void },
  ): Promise<unknown>;
  close(): Promise<void> | void;
}

/** Options for `createWinRMExecutors`. */
export interface WinRMExecutorOptions {
  /**
   * Creates a client for one step, e.g. `(options) => new WinRMClient(options)` with
   * `@opsconductor/winrm`. Passed in rather than imported so the engine loads no network code
   * until an embedder asks for it, and tests can hand in their own client.
   */
  createClient: (options: WinRMConnectionOptions) => WinRMClientLike | Promise<WinRMClientLike>;
}

/** Maps a target and its credential to WinRM client options (https on 5986 unless the target says otherwise). */
export function winrmConnectionOptions(target: Target, credential: Credential): WinRMConnectionOptions {
  const winrm = target.winrm ?? {};
  const transport = winrm.transport ?? "https";
  const options: WinRMConnectionOptions = {
    host: target.hostname,
    port: target.port ?? (transport === "https" ? 5986 : 5985),
    transport,
    auth: winrm.auth ?? "ntlm",
    username: credential.username,
    password: credential.secret.password,
  };
  if (credential.domain) options.domain = credential.domain;
  if (winrm.caCertificate) options.ca = winrm.caCertificate;
  if (winrm.rejectUnauthorized !== undefined) options.rejectUnauthorized = winrm.rejectUnauthorized;
  if (winrm.allowUnencrypted !== undefined) options.allowUnencrypted = winrm.allowUnencrypted;
  if (winrm.operationTimeoutSec !== undefined) options.operationTimeoutSec = winrm.operationTimeoutSec;
  if (winrm.connectTimeoutSec !== undefined) options.connectTimeoutSec = winrm.connectTimeoutSec;
  return options;
}

async function withClient<T>(
  context: StepContext,
  createClient: NonNullable<WinRMExecutorOptions["createClient"]>,
  use: (client: WinRMClientLike) => Promise<T>,
): Promise<T> {
  const { target, credential, step } = context;
  if (!target) throw new Error(`Step type "${step.type}" needs a target.`);
  if (!credential) throw new Error(`Target "${target.name}" has no credential to log in with.`);
  const client = await createClient(winrmConnectionOptions(target, credential));
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/** Creates the `winrm.exec` and `winrm.copy` executors. */
export function createWinRMExecutors(options: WinRMExecutorOptions): { "winrm.exec": StepExecutor; "winrm.copy": StepExecutor } {
  const createClient = options?.createClient;
  if (typeof createClient !== "function") {
    throw new TypeError("createWinRMExecutors() needs a createClient function, e.g. { createClient: (options) => new WinRMClient(options) }.");
  }

  const exec: StepExecutor = async (context) => {
    const shell = context.step.shell === "cmd" ? "cmd" : "powershell";
    const command = context.interpolate(String(context.step.command), { shell });
    return withClient(context, createClient, async (client): Promise<StepOutcome> => {
      const runOptions: WinRMRunOptions = {
        signal: context.signal,
        timeoutSec: context.timeoutSec,
        onStdout: (text) => context.output("stdout", text),
        onStderr: (text) => context.output("stderr", text),
      };
      const result = shell === "cmd" ? await client.runCmd(command, [], runOptions) : await client.runPowerShell(command, runOptions);
      return { exitCode: typeof result.exitCode === "number" ? result.exitCode : null };
    });
  };

  const copy: StepExecutor = async (context) => {
    const { step } = context;
    // The destination is a path handed to the client as data, not run by a shell.
    const destination = context.interpolate(String(step.destination), { shell: "text" });
    const source: Buffer | string =
      typeof step.content === "string"
        ? Buffer.from(step.content, step.encoding === "base64" ? "base64" : "utf8")
        : String(step.source);
    return withClient(context, createClient, async (client): Promise<StepOutcome> => {
      await client.copyFile(source, destination, { overwrite: step.overwrite === true, signal: context.signal });
      context.output("stdout", `Copied to ${destination}\n`);
      return { exitCode: 0 };
    });
  };

  return { "winrm.exec": exec, "winrm.copy": copy };
}
