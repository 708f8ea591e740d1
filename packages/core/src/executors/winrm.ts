import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import type { Credential, StepContext, StepExecutor, StepOutcome, Target } from "../contracts.ts";

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

/** A shell kept open for several commands (`@opsconductor/winrm`'s `WinRMShell`). */
export interface WinRMShellLike {
  runPowerShell(script: string, options?: WinRMRunOptions): Promise<{ exitCode: number | null | undefined }>;
  runCmd(command: string, args?: readonly string[], options?: WinRMRunOptions): Promise<{ exitCode: number | null | undefined }>;
  close(): Promise<void> | void;
}

/** The part of a WinRM client (such as `@opsconductor/winrm`'s) the executors use. */
export interface WinRMClientLike {
  /** When present, a run's `winrm.exec` steps on one target share one shell opened with it. */
  openShell?(): Promise<WinRMShellLike>;
  runPowerShell(script: string, options?: WinRMRunOptions): Promise<{ exitCode: number | null | undefined }>;
  runCmd(command: string, args?: readonly string[], options?: WinRMRunOptions): Promise<{ exitCode: number | null | undefined }>;
  /** Copies bytes (a Buffer or a stream) to `remotePath`; may resolve to the SHA-256 the target computed. */
  copyFile(
    source: Buffer | Readable,
    remotePath: string,
    options?: { overwrite?: boolean; signal?: AbortSignal; onProgress?: (progress: unknown) => void },
  ): Promise<{ sha256?: string } | void | unknown>;
  close(): Promise<void> | void;
}

/** A file opened for a `winrm.copy` step: its bytes as a stream, and what is known about them. */
export interface OpenedFile {
  /** The bytes, read lazily in order (the copy applies backpressure). */
  stream: Readable;
  /** A label for output, e.g. the file's name. */
  name?: string;
  size?: number;
  /** Hex SHA-256 the bytes must have; the copy fails if the target received anything else. */
  sha256?: string;
}

/** Opens the file a `winrm.copy` step names in `file` (its `sha256`, when set, is passed along). */
export type OpenFile = (ref: string, context: { signal: AbortSignal; sha256?: string | undefined }) => Promise<OpenedFile>;

/** Options for `createWinRMExecutors`. */
export interface WinRMExecutorOptions {
  /**
   * Creates a client for one step, e.g. `(options) => new WinRMClient(options)` with
   * `@opsconductor/winrm`. Passed in rather than imported so the engine loads no network code
   * until an embedder asks for it, and tests can hand in their own client.
   */
  createClient: (options: WinRMConnectionOptions) => WinRMClientLike | Promise<WinRMClientLike>;
  /**
   * Resolves `file` in `winrm.copy` steps, e.g. from your own file store. Without it such steps
   * fail; nothing reads local paths unless you pass `createLocalFileOpener({ root })` here.
   */
  openFile?: OpenFile;
}

/**
 * An `openFile` that reads files under `root` on this machine (an explicit opt-in for embedders):
 * `file` is a path relative to `root`, and anything resolving outside it, through `..` or a
 * symbolic link, is refused.
 */
export function createLocalFileOpener(options: { root: string }): OpenFile {
  if (typeof options?.root !== "string" || !isAbsolute(options.root)) {
    throw new TypeError("createLocalFileOpener() needs { root: <absolute directory> }, the only directory whose files steps may copy.");
  }
  return async (ref) => {
    const root = await realpath(options.root);
    let path: string;
    try {
      path = await realpath(resolve(root, ref));
    } catch {
      throw new Error(`File "${ref}" was not found under the copy root.`);
    }
    const inside = relative(root, path);
    if (inside === "" || inside.startsWith(`..${sep}`) || inside === ".." || isAbsolute(inside)) throw new Error(`File "${ref}" is outside the copy root.`);
    const info = await stat(path);
    if (!info.isFile()) throw new Error(`"${ref}" is not a regular file.`);
    return { stream: createReadStream(path, { highWaterMark: 1 << 20 }), name: ref, size: info.size };
  };
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

// One connection per target and credential for the whole run: the NTLM handshake and TLS setup
// happen once, however many steps the run sends there.
function connectionKey(options: WinRMConnectionOptions): string {
  return createHash("sha256").update(JSON.stringify(options)).digest("hex");
}

async function withClient<T>(
  context: StepContext,
  createClient: NonNullable<WinRMExecutorOptions["createClient"]>,
  use: (client: WinRMClientLike, key: string) => Promise<T>,
): Promise<T> {
  const { target, credential, step, resources } = context;
  if (!target) throw new Error(`Step type "${step.type}" needs a target.`);
  if (!credential) throw new Error(`Target "${target.name}" has no credential to log in with.`);
  const options = winrmConnectionOptions(target, credential);
  const key = connectionKey(options);
  if (resources) {
    const client = await resources.use(`winrm:${key}`, () => createClient(options), (opened) => opened.close());
    return use(client, key);
  }
  const client = await createClient(options);
  try {
    return await use(client, key);
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
    return withClient(context, createClient, async (client, key): Promise<StepOutcome> => {
      const runOptions: WinRMRunOptions = {
        signal: context.signal,
        timeoutSec: context.timeoutSec,
        onStdout: (text) => context.output("stdout", text),
        onStderr: (text) => context.output("stderr", text),
      };
      const openShell = client.openShell?.bind(client);
      const runner: WinRMShellLike =
        context.resources && openShell ? await context.resources.use(`winrm-shell:${key}`, () => openShell(), (opened) => opened.close()) : client;
      const result = shell === "cmd" ? await runner.runCmd(command, [], runOptions) : await runner.runPowerShell(command, runOptions);
      return { exitCode: typeof result.exitCode === "number" ? result.exitCode : null };
    });
  };

  const openFile = options.openFile;
  const copy: StepExecutor = async (context) => {
    const { step, signal } = context;
    // The destination is a path handed to the client as data, not run by a shell.
    const destination = context.interpolate(String(step.destination), { shell: "text" });
    let source: Buffer | Readable;
    let expected: string | undefined;
    let label: string;
    if (typeof step.content === "string") {
      source = Buffer.from(step.content, step.encoding === "base64" ? "base64" : "utf8");
      expected = createHash("sha256").update(source).digest("hex");
      label = `${source.length} bytes`;
    } else if (typeof step.file === "string") {
      if (!openFile) throw new Error(`Step "${step.name ?? step.id ?? step.type}" copies file "${step.file}", but no file source (openFile) is configured.`);
      const pinned = typeof step.sha256 === "string" ? step.sha256 : undefined;
      const opened = await openFile(step.file, { signal, sha256: pinned });
      if (pinned && opened.sha256 && opened.sha256 !== pinned) {
        opened.stream.destroy();
        throw new Error(`File "${step.file}" has SHA-256 ${opened.sha256}, but the step was saved with ${pinned}.`);
      }
      source = opened.stream;
      expected = pinned ?? opened.sha256;
      label = `${opened.name ?? step.file}${opened.size === undefined ? "" : ` (${opened.size} bytes)`}`;
    } else {
      throw new Error('A winrm.copy step needs "content" or "file".');
    }
    try {
      return await withClient(context, createClient, async (client): Promise<StepOutcome> => {
        const result = await client.copyFile(source, destination, { overwrite: step.overwrite === true, signal });
        const received = (result as { sha256?: unknown } | undefined)?.sha256;
        if (expected && typeof received === "string" && received.toLowerCase() !== expected) {
          return { status: "failed", error: `The copy of ${destination} has SHA-256 ${received}, expected ${expected}.` };
        }
        context.output("stdout", `Copied ${label} to ${destination}${typeof received === "string" ? ` (SHA-256 ${received.toLowerCase()})` : ""}\n`);
        return { exitCode: 0 };
      });
    } finally {
      if (!Buffer.isBuffer(source)) source.destroy();
    }
  };

  return { "winrm.exec": exec, "winrm.copy": copy };
}
