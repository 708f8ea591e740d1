// The WinRM client: shell lifecycle (MS-WSMV 3.1.4: Create, Command, Send, Receive, Signal, Delete)
// on top of the keep-alive transport, with cancellation, deadlines and streaming file copy.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { LookupFunction } from "node:net";
import type { Readable } from "node:stream";
import { FRAME_HEADER_BYTES, TRAILER_BYTES, copyFrames } from "./copy.ts";
import type { CopyChunk } from "./copy.ts";
import { BufferPool } from "./buffers.ts";
import { WinRMCopyError, WinRMError, WinRMFaultError, WinRMTimeoutError } from "./errors.ts";
import { OutputDecoder } from "./output.ts";
import { CMD_FILE_BOOTSTRAP, PROGRESS_PREAMBLE, STDIN_BOOTSTRAP, copyScript, powershellCommandLine, stdinScriptLine } from "./powershell.ts";
import {
  FAULT_CODES,
  commandRequest,
  createShellRequest,
  deleteShellRequest,
  identifyRequest,
  parseResponse,
  readCommandId,
  readIdentify,
  readReceive,
  readShellId,
  receiveRequest,
  sendRequest,
  signalRequest,
} from "./soap.ts";
import type { IdentifyResult, RequestContext, SoapRequest, SoapResponse } from "./soap.ts";
import { Transport } from "./transport.ts";
import type { HeldConnection, HeldRequest, TransportStats } from "./transport.ts";

/** Connection settings of a WinRMClient. */
export interface WinRMClientOptions {
  /** Host name or IP address of the Windows machine. */
  host: string;
  /** Listener port (default 5986 for https, 5985 for http). */
  port?: number;
  /** "https" (default) or "http". */
  transport?: "http" | "https";
  /** "ntlm" (default; Negotiate with NTLM) or "basic" (local accounts only, needs Basic=true on the service). */
  auth?: "basic" | "ntlm";
  /** "user", "DOMAIN\\user" or "user@domain.example". */
  username: string;
  password: string;
  /** NTLM domain, when the user name does not carry one. */
  domain?: string;
  /** PEM certificate(s) of the CA that issued the listener's certificate. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Verify the listener's certificate (default true); false is for tests only. */
  rejectUnauthorized?: boolean;
  /** Permit Basic over plain HTTP (the listener must have AllowUnencrypted=true); never for production. */
  allowUnencrypted?: boolean;
  /** How long one WS-Management operation may take on the server, e.g. a Receive waiting for output (default 20). */
  operationTimeoutSec?: number;
  /** How long to wait for the TCP (and TLS) connection (default 15). */
  connectTimeoutSec?: number;
  /** Keep-alive connections the client may open (default 1; each authenticates once). */
  maxConnections?: number;
  /** The listener's MaxEnvelopeSizekb (default 500, Windows' default since Server 2012); bounds each Send. */
  maxEnvelopeSizeKb?: number;
  /** URL path of the listener (default "/wsman"). */
  path?: string;
  /**
   * Largest HTTP response body accepted, in bytes (default: 4 × maxEnvelopeSizeKb, at least 8 MiB).
   * A listener honours the envelope size the client asks for, so only a broken or hostile server
   * sends more; the request is then abandoned instead of buffered.
   */
  maxResponseBytes?: number;
  /** Resolves the host name instead of dns.lookup (as net.connect's `lookup`), e.g. to refuse some addresses. */
  lookup?: LookupFunction;
}

/** What a command printed and how it ended. */
export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Data for a command's stdin. */
export type StdinSource = string | Uint8Array | Readable | AsyncIterable<Uint8Array>;

/** Options of runPowerShell, runCmd and the WinRMShell equivalents. */
export interface RunOptions {
  /** Aborting sends Signal terminate and deletes the shell; the call then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called with stdout text as each Receive response arrives; the result's `stdout` is then empty (nothing is kept in memory). */
  onStdout?: (text: string) => void;
  /** Called with stderr text (CLIXML already made readable) as each Receive response arrives; the result's `stderr` is then empty. */
  onStderr?: (text: string) => void;
  /** Overall deadline for the command; when it passes the command is terminated and WinRMTimeoutError thrown. */
  timeoutSec?: number;
  /** Sent to the command's stdin, which is then closed. */
  stdin?: StdinSource;
}

/** Progress of copyFile. */
export interface CopyProgress {
  /** Source bytes the server has accepted so far. */
  bytesSent: number;
  /** Source size, when known (Buffer or path). */
  totalBytes: number | undefined;
}

/** Options of copyFile. */
export interface CopyOptions {
  /** Replace an existing file (default false: fail if it exists). */
  overwrite?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: CopyProgress) => void;
  /** Overall deadline for the copy. */
  timeoutSec?: number;
}

/** The outcome of copyFile. */
export interface CopyResult {
  remotePath: string;
  bytes: number;
  /** Hex SHA-256 of the file, computed on both sides and found equal. */
  sha256: string;
}

type Send = (data: Buffer, end: boolean) => Promise<void>;
/** Builds the Send request for `data` at once (so a caller can build the next while one is on its way); the result sends it. */
type PrepareSend = (data: Buffer, end: boolean) => () => Promise<void>;

interface ExecOptions extends Omit<RunOptions, "stdin" | "timeoutSec"> {
  deadline: number | undefined;
  timeoutSec: number | undefined;
  /** Writes stdin through `send` (or `prepare`, one Send at a time either way); the last must pass end = true. */
  input?: (send: Send, prepare: PrepareSend) => Promise<void>;
  /** Replaces a shell the server no longer knows (InvalidSelectors on Command) with a fresh one. */
  reopen?: (staleShellId: string) => Promise<string>;
  /**
   * When sending stdin fails (abort, deadline, a failing source), first end stdin and give the
   * command EXIT_GRACE_MS to exit by itself: a script can then clean up, which Signal terminate
   * (TerminateProcess on Windows, no finally blocks) would not let it do.
   */
  endInputOnFailure?: boolean;
  /**
   * Keep one connection for the whole input, so that each Send is sealed while the one before it
   * is on its way (a copy); other requests of this client wait for a connection meanwhile.
   */
  holdConnection?: boolean;
}

const ENVELOPE_OVERHEAD = 8192;
// How long cleanup (Signal, Delete) may take after a failure, so a dead host cannot hang the caller.
const CLEANUP_OPERATION_SEC = 10;
const EXIT_GRACE_MS = 5000;

const isFault = (error: unknown, code: number): error is WinRMFaultError => error instanceof WinRMFaultError && error.code === code;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new WinRMError(`${name} must be a positive number of seconds or items, got ${String(value)}`);
  }
  return value;
}

/** Splits a byte source into buffers of exactly `size` bytes (the last may be shorter), pulling lazily. */
async function* blocks(source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of source) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    parts.push(buf);
    length += buf.length;
    while (length >= size) {
      const all = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, length);
      yield Buffer.from(all.subarray(0, size));
      parts = length > size ? [all.subarray(size)] : [];
      length -= size;
    }
  }
  if (length > 0) yield Buffer.concat(parts, length);
}

const inMemory = (source: StdinSource): source is string | Uint8Array => typeof source === "string" || source instanceof Uint8Array;
const asBuffer = (data: string | Uint8Array): Buffer => (typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data.buffer, data.byteOffset, data.byteLength));

/** The parts one after another, as one byte stream. */
async function* concatenated(parts: readonly StdinSource[]): AsyncGenerator<Uint8Array | string> {
  for (const part of parts) {
    if (inMemory(part)) yield part;
    else yield* part;
  }
}

/** @internal Low-level operations shared by WinRMClient and WinRMShell; one per client. */
export class Operations {
  readonly transport: Transport;
  readonly operationTimeoutSec: number;
  readonly maxEnvelopeSize: number;
  /** Largest stdin payload of one Send: base64 grows it by 4/3 inside the envelope. */
  readonly sendChunkBytes: number;

  constructor(transport: Transport, operationTimeoutSec: number, maxEnvelopeSize: number) {
    this.transport = transport;
    this.operationTimeoutSec = operationTimeoutSec;
    this.maxEnvelopeSize = maxEnvelopeSize;
    this.sendChunkBytes = Math.max(3, Math.floor(((maxEnvelopeSize - ENVELOPE_OVERHEAD) * 3) / 4 / 3) * 3);
  }

  ctx(operationTimeoutSec = this.operationTimeoutSec): RequestContext {
    return { to: this.transport.url, operationTimeoutSec, maxEnvelopeSize: this.maxEnvelopeSize };
  }

  async call(request: SoapRequest, signal: AbortSignal | undefined, operationTimeoutSec = this.operationTimeoutSec): Promise<SoapResponse> {
    const xml = await this.transport.post(request.xml, this.#postOptions(signal, operationTimeoutSec));
    return parseResponse(xml, request, this.transport.hostLabel);
  }

  /** As call, for a request prepared on a held connection. */
  async callHeld(held: HeldConnection, prepared: HeldRequest, request: SoapRequest, signal: AbortSignal | undefined): Promise<SoapResponse> {
    const xml = await held.post(prepared, this.#postOptions(signal, this.operationTimeoutSec));
    return parseResponse(xml, request, this.transport.hostLabel);
  }

  #postOptions(signal: AbortSignal | undefined, operationTimeoutSec: number): { signal?: AbortSignal; timeoutMs: number } {
    // The HTTP read timeout must outlast the server-side OperationTimeout, or every idle Receive would fail.
    const margin = Math.min(10, Math.max(2, operationTimeoutSec / 2));
    return { ...(signal ? { signal } : {}), timeoutMs: (operationTimeoutSec + margin) * 1000 };
  }

  /** Creates a shell. Deliberately not abortable: a Create cut off mid-flight could leave a shell nobody knows to delete. */
  async createShell(): Promise<string> {
    return readShellId(await this.call(createShellRequest(this.ctx()), undefined));
  }

  /** Deletes a shell; a shell that is already gone counts as deleted. */
  async deleteShell(shellId: string): Promise<void> {
    try {
      await this.call(deleteShellRequest(this.ctx(CLEANUP_OPERATION_SEC), shellId), undefined, CLEANUP_OPERATION_SEC);
    } catch (error) {
      if (!isFault(error, FAULT_CODES.invalidSelectors)) throw error;
    }
  }

  /** Best-effort Delete for cleanup paths, where the original outcome matters more than this one. */
  async discardShell(shellId: string): Promise<void> {
    try {
      await this.deleteShell(shellId);
    } catch {
      // The shell's IdleTimeout (winrs MaxIdleTimeoutms) reclaims it if the server is unreachable now.
    }
  }

  #remainingSec(opts: ExecOptions): number {
    if (opts.deadline === undefined) return this.operationTimeoutSec;
    const remaining = (opts.deadline - Date.now()) / 1000;
    if (remaining <= 0) {
      throw new WinRMTimeoutError(
        `the command did not finish within timeoutSec=${opts.timeoutSec} s and was terminated; raise timeoutSec if it legitimately takes longer`,
      );
    }
    // A Receive waits server-side at most until the deadline, so the deadline holds without dropping the connection.
    return Math.min(this.operationTimeoutSec, Math.max(1, Math.ceil(remaining)));
  }

  /** Runs one command in an existing shell through to CommandState Done, then releases it with Signal terminate. */
  async execute(shellId: string, command: string, args: readonly string[], opts: ExecOptions): Promise<CommandResult & { shellId: string }> {
    const { signal } = opts;
    signal?.throwIfAborted();
    const piped = opts.input !== undefined;
    let started: SoapResponse;
    try {
      started = await this.call(commandRequest(this.ctx(), shellId, command, args, piped), signal);
    } catch (error) {
      if (!opts.reopen || !isFault(error, FAULT_CODES.invalidSelectors)) throw error;
      shellId = await opts.reopen(shellId);
      signal?.throwIfAborted();
      started = await this.call(commandRequest(this.ctx(), shellId, command, args, piped), signal);
    }
    const commandId = readCommandId(started);
    try {
      let inputFault: WinRMFaultError | undefined;
      if (opts.input) {
        let inputEnded = false;
        let held: HeldConnection | undefined;
        const envelopes = new BufferPool();
        const prepare: PrepareSend = (data, end) => {
          const request = sendRequest(this.ctx(), shellId, commandId, data, end, held ? (size) => envelopes.take(size) : undefined);
          const prepared = held?.prepare(request.xml, () => envelopes.give(request.xml as Buffer));
          return async () => {
            signal?.throwIfAborted();
            this.#remainingSec(opts);
            await (prepared && held ? this.callHeld(held, prepared, request, signal) : this.call(request, signal));
            if (end) inputEnded = true;
          };
        };
        try {
          // Inside the failure handling: a cancel while waiting for the connection also ends stdin first.
          if (opts.holdConnection) held = await this.transport.hold(signal);
          try {
            await opts.input((data, end) => prepare(data, end)(), prepare);
          } finally {
            await held?.release();
          }
        } catch (error) {
          // A process that exits early makes Send fail; its exit code and stderr explain more than the fault.
          if (!(error instanceof WinRMFaultError)) {
            if (opts.endInputOnFailure) await this.#letExit(shellId, commandId, inputEnded);
            throw error;
          }
          inputFault = error;
        }
      }
      const receiveOpts = inputFault ? { ...opts, deadline: Math.min(opts.deadline ?? Infinity, Date.now() + 5000) } : opts;
      try {
        return { ...(await this.#receiveAll(shellId, commandId, receiveOpts)), shellId };
      } catch (error) {
        throw inputFault ?? error;
      }
    } finally {
      await this.#terminate(shellId, commandId);
    }
  }

  async #receiveAll(shellId: string, commandId: string, opts: ExecOptions): Promise<CommandResult> {
    const decoder = new OutputDecoder();
    let stdout = "";
    let stderr = "";
    // A caller that streams a stream gets it only through its callback: a command printing
    // gigabytes must not pile up here too.
    const emit = (stream: "stdout" | "stderr", text: string): void => {
      if (!text) return;
      if (stream === "stdout") {
        if (opts.onStdout) opts.onStdout(text);
        else stdout += text;
      } else if (opts.onStderr) opts.onStderr(text);
      else stderr += text;
    };
    for (;;) {
      opts.signal?.throwIfAborted();
      const operationSec = this.#remainingSec(opts);
      let response: SoapResponse;
      try {
        response = await this.call(receiveRequest(this.ctx(operationSec), shellId, commandId), opts.signal, operationSec);
      } catch (error) {
        // w:TimedOut only means "no output yet" (MS-WSMV 3.1.4.14); ask again until the deadline.
        if (isFault(error, FAULT_CODES.timedOut)) continue;
        throw error;
      }
      const received = readReceive(response, commandId);
      for (const stream of received.streams) {
        const out = decoder.write(stream.name, stream.data);
        emit(out.stream, out.text);
      }
      if (received.done) {
        const rest = decoder.end();
        emit("stdout", rest.stdout);
        emit("stderr", rest.stderr);
        return { stdout, stderr, exitCode: received.exitCode ?? 0 };
      }
    }
  }

  // Best effort and bounded: whatever happens here, Signal terminate follows.
  async #letExit(shellId: string, commandId: string, inputEnded: boolean): Promise<void> {
    const signal = AbortSignal.timeout(EXIT_GRACE_MS);
    try {
      if (!inputEnded) await this.call(sendRequest(this.ctx(CLEANUP_OPERATION_SEC), shellId, commandId, Buffer.alloc(0), true), signal, CLEANUP_OPERATION_SEC);
      const ignore = (): void => undefined;
      await this.#receiveAll(shellId, commandId, { signal, deadline: Date.now() + EXIT_GRACE_MS, timeoutSec: EXIT_GRACE_MS / 1000, onStdout: ignore, onStderr: ignore });
    } catch {
      // Not ended in time, or the shell is gone: terminate decides.
    }
  }

  // Terminate ends a running command and frees a finished one's resources; failures here never mask the real outcome.
  async #terminate(shellId: string, commandId: string): Promise<void> {
    try {
      await this.call(signalRequest(this.ctx(CLEANUP_OPERATION_SEC), shellId, commandId), undefined, CLEANUP_OPERATION_SEC);
    } catch {
      // The command already ended, or the shell is gone: nothing left to release.
    }
  }
}

/** Writes the parts, in order, as the command's stdin. */
function stdinInput(parts: readonly StdinSource[], chunkBytes: number): (send: Send) => Promise<void> {
  return async (send) => {
    // A script (and stdin given as text or bytes) that fits one Send goes without any stream machinery.
    if (parts.every(inMemory)) {
      const buffers = parts.map(asBuffer);
      const length = buffers.reduce((sum, b) => sum + b.length, 0);
      if (length <= chunkBytes) return send(buffers.length === 1 ? (buffers[0] as Buffer) : Buffer.concat(buffers, length), true);
    }
    let pending: Buffer | undefined;
    for await (const block of blocks(concatenated(parts), chunkBytes)) {
      if (pending) await send(pending, false);
      pending = block;
    }
    await send(pending ?? Buffer.alloc(0), true);
  };
}

function deadlineOf(timeoutSec: number | undefined): number | undefined {
  if (timeoutSec === undefined) return undefined;
  return Date.now() + positive("timeoutSec", timeoutSec, 0) * 1000;
}

function execOptions(opts: RunOptions, ops: Operations, stdin: readonly StdinSource[] | undefined, reopen?: (stale: string) => Promise<string>): ExecOptions {
  return {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onStdout ? { onStdout: opts.onStdout } : {}),
    ...(opts.onStderr ? { onStderr: opts.onStderr } : {}),
    deadline: deadlineOf(opts.timeoutSec),
    timeoutSec: opts.timeoutSec,
    ...(stdin !== undefined ? { input: stdinInput(stdin, ops.sendChunkBytes) } : {}),
    ...(reopen ? { reopen } : {}),
  };
}

/** A command line running `script` directly with -EncodedCommand (no stdin bootstrap), so limited by cmd.exe's 8191 characters. */
export function powershellCommand(script: string): string {
  return powershellCommandLine(`${PROGRESS_PREAMBLE}\n${script}`);
}

// Longer cmd command lines go through a temporary .cmd file; 8191 is cmd.exe's hard limit.
const MAX_DIRECT_CMD = 8000;
const MAX_COMMAND_LINE = 8191;

interface Prepared {
  command: string;
  args: readonly string[];
  opts: RunOptions;
  /** What goes to stdin, in order (the bootstraps' script line, then the caller's stdin). */
  stdin?: StdinSource[];
}

// Constant: encoded once rather than per command.
const STDIN_BOOTSTRAP_COMMAND = powershellCommandLine(STDIN_BOOTSTRAP);
const CMD_FILE_BOOTSTRAP_COMMAND = powershellCommandLine(CMD_FILE_BOOTSTRAP);

/** runPowerShell's Command: the short stdin bootstrap, with the script as the first stdin line and the caller's stdin after it. */
function preparePowerShell(script: string, opts: RunOptions): Prepared {
  if (typeof script !== "string") throw new WinRMError("runPowerShell needs the script as a string");
  const line = stdinScriptLine(`${PROGRESS_PREAMBLE}\n${script}`);
  return { command: STDIN_BOOTSTRAP_COMMAND, args: [], opts, stdin: opts.stdin === undefined ? [line] : [line, opts.stdin] };
}

/** runCmd's Command: short command lines as given, longer ones written to a temporary .cmd file through stdin. */
function prepareCmd(command: string, args: readonly string[], opts: RunOptions): Prepared {
  const line = [command, ...args].join(" ");
  if (line.length <= MAX_DIRECT_CMD) return { command, args, opts, ...(opts.stdin !== undefined ? { stdin: [opts.stdin] } : {}) };
  if (opts.stdin !== undefined) {
    throw new WinRMError(
      `a cmd script longer than ${MAX_DIRECT_CMD} characters runs from a temporary .cmd file and cannot also take stdin; shorten it below ${MAX_DIRECT_CMD} characters or use runPowerShell`,
    );
  }
  return { command: CMD_FILE_BOOTSTRAP_COMMAND, args: [], opts, stdin: [stdinScriptLine(line)] };
}

/** A shell kept open to run several commands without a Create and Delete each; reopened if the server drops it. */
export class WinRMShell {
  readonly #ops: Operations;
  readonly #onClose: (shell: WinRMShell) => void;
  #id: string | undefined;
  #opening: Promise<string> | undefined;
  #closed = false;

  /** @internal Use WinRMClient.openShell(). */
  constructor(ops: Operations, id: string, onClose: (shell: WinRMShell) => void) {
    this.#ops = ops;
    this.#id = id;
    this.#onClose = onClose;
  }

  /** The server's ShellId of the current shell (it changes when the shell is reopened). */
  get id(): string | undefined {
    return this.#id;
  }

  /** Runs a cmd.exe command line (`command` followed by `args`, joined with spaces as cmd.exe sees them). */
  async runCmd(command: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<CommandResult> {
    const prepared = prepareCmd(command, args, opts);
    return this.#run(prepared);
  }

  /** Runs a PowerShell script in a new powershell.exe inside this shell. */
  async runPowerShell(script: string, opts: RunOptions = {}): Promise<CommandResult> {
    const prepared = preparePowerShell(script, opts);
    return this.#run(prepared);
  }

  /** Deletes the shell on the server; safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose(this);
    const id = this.#id ?? (await this.#opening?.catch(() => undefined));
    this.#id = undefined;
    if (id) await this.#ops.deleteShell(id);
  }

  async #run({ command, args, opts, stdin }: Prepared): Promise<CommandResult> {
    if (this.#closed) throw new WinRMError("this WinRM shell was closed; open another with client.openShell()");
    const exec = execOptions(opts, this.#ops, stdin, (stale) => this.#reopen(stale));
    const id = this.#id ?? (await this.#open());
    const { stdout, stderr, exitCode } = await this.#ops.execute(id, command, args, exec);
    return { stdout, stderr, exitCode };
  }

  #open(): Promise<string> {
    this.#opening ??= this.#ops.createShell().then(
      async (id) => {
        this.#opening = undefined;
        // close() may have run while the shell was being created.
        if (this.#closed) {
          await this.#ops.discardShell(id);
          throw new WinRMError("this WinRM shell was closed; open another with client.openShell()");
        }
        this.#id = id;
        return id;
      },
      (error: unknown) => {
        this.#opening = undefined;
        throw error;
      },
    );
    return this.#opening;
  }

  // Concurrent commands may all notice the loss; only the first replaces the shell, the rest use its replacement.
  async #reopen(stale: string): Promise<string> {
    if (this.#closed) throw new WinRMError("this WinRM shell was closed; open another with client.openShell()");
    if (this.#id !== undefined && this.#id !== stale) return this.#id;
    this.#id = undefined;
    return this.#open();
  }
}

/**
 * A WinRM (WS-Management) client for one Windows host.
 *
 * @example
 * const client = new WinRMClient({ host: "win01", transport: "https", auth: "ntlm", username: "CONTOSO\\ops", password });
 * const { stdout, exitCode } = await client.runPowerShell("Get-Service WinRM | Select-Object -Expand Status");
 * await client.close();
 */
export class WinRMClient {
  readonly #ops: Operations;
  readonly #transport: Transport;
  readonly #shells = new Set<WinRMShell>();

  constructor(options: WinRMClientOptions) {
    if (!options || typeof options.host !== "string" || options.host.trim() === "") {
      throw new WinRMError("WinRMClient needs a host: new WinRMClient({ host: \"server.example.com\", username, password, ... })");
    }
    const transport = options.transport ?? "https";
    const auth = options.auth ?? "ntlm";
    if (transport !== "http" && transport !== "https") throw new WinRMError(`transport must be "http" or "https", got ${JSON.stringify(transport)}`);
    if (auth !== "basic" && auth !== "ntlm") throw new WinRMError(`auth must be "basic" or "ntlm", got ${JSON.stringify(auth)}`);
    if (typeof options.username !== "string" || options.username === "") throw new WinRMError("WinRMClient needs a username (\"user\", \"DOMAIN\\\\user\" or \"user@domain\")");
    if (typeof options.password !== "string") throw new WinRMError("WinRMClient needs a password string");
    const port = options.port ?? (transport === "https" ? 5986 : 5985);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new WinRMError(`port must be an integer between 1 and 65535, got ${String(options.port)}`);
    const maxEnvelopeKb = positive("maxEnvelopeSizeKb", options.maxEnvelopeSizeKb, 500);
    if (maxEnvelopeKb < 32) throw new WinRMError("maxEnvelopeSizeKb must be at least 32 (Windows' smallest useful MaxEnvelopeSizekb)");
    this.#transport = new Transport({
      host: options.host,
      port,
      transport,
      auth,
      username: options.username,
      password: options.password,
      ...(options.domain !== undefined ? { domain: options.domain } : {}),
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      ...(options.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.rejectUnauthorized } : {}),
      ...(options.allowUnencrypted !== undefined ? { allowUnencrypted: options.allowUnencrypted } : {}),
      ...(options.path !== undefined ? { path: options.path } : {}),
      ...(options.lookup !== undefined ? { lookup: options.lookup } : {}),
      connectTimeoutSec: positive("connectTimeoutSec", options.connectTimeoutSec, 15),
      maxConnections: Math.floor(positive("maxConnections", options.maxConnections, 1)),
      maxResponseBytes: Math.floor(positive("maxResponseBytes", options.maxResponseBytes, Math.max(8 * 1024 * 1024, 4 * maxEnvelopeKb * 1024))),
    });
    this.#ops = new Operations(this.#transport, positive("operationTimeoutSec", options.operationTimeoutSec, 20), Math.floor(maxEnvelopeKb * 1024));
  }

  /** The endpoint URL, e.g. https://win01:5986/wsman. */
  get url(): string {
    return this.#transport.url;
  }

  /** HTTP requests, TCP connections and NTLM handshakes made so far. */
  get stats(): Readonly<TransportStats> {
    return this.#transport.stats;
  }

  /** Sends an authenticated wsmid:Identify: a cheap check that the host, listener and credentials work. */
  async identify(opts: { signal?: AbortSignal } = {}): Promise<IdentifyResult> {
    const request = identifyRequest();
    return readIdentify(await this.#ops.call(request, opts.signal));
  }

  /** Runs a PowerShell script in a new shell and returns its output and exit code. */
  async runPowerShell(script: string, opts: RunOptions = {}): Promise<CommandResult> {
    const prepared = preparePowerShell(script, opts);
    return this.#runOnce(prepared);
  }

  /** Runs a cmd.exe command line (`command` followed by `args`, joined with spaces as cmd.exe sees them) in a new shell. */
  async runCmd(command: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<CommandResult> {
    const prepared = prepareCmd(command, args, opts);
    return this.#runOnce(prepared);
  }

  /** Opens a shell for several commands; close it (or the client) when done. */
  async openShell(): Promise<WinRMShell> {
    const id = await this.#ops.createShell();
    const shell = new WinRMShell(this.#ops, id, (s) => this.#shells.delete(s));
    this.#shells.add(shell);
    return shell;
  }

  /**
   * Copies a Buffer, a Readable or a local file (by path) to `remotePath`: its bytes stream as they
   * are through one PowerShell process's stdin into a temporary file, which the server moves into
   * place only once its SHA-256 equals the client's.
   */
  async copyFile(source: Buffer | Uint8Array | Readable | AsyncIterable<Uint8Array> | string, remotePath: string, opts: CopyOptions = {}): Promise<CopyResult> {
    if (typeof remotePath !== "string" || remotePath.trim() === "") throw new WinRMCopyError("copyFile needs a remote path, e.g. C:\\Temp\\file.zip");
    const command = powershellCommandLine(copyScript(remotePath, opts.overwrite === true));
    if (command.length > MAX_COMMAND_LINE) {
      throw new WinRMCopyError(
        `the remote path is too long for the copy script's command line (${command.length} characters; cmd.exe allows ${MAX_COMMAND_LINE}): ` +
          "copy to a shorter path, then move the file there with runPowerShell",
      );
    }
    opts.signal?.throwIfAborted();
    const deadline = deadlineOf(opts.timeoutSec);
    let input: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>;
    let totalBytes: number | undefined;
    if (typeof source === "string") {
      try {
        totalBytes = (await stat(source)).size;
      } catch (error) {
        throw new WinRMCopyError(`cannot read the local file ${source}: ${(error as Error).message}`, { cause: error });
      }
      input = createReadStream(source, { highWaterMark: 1 << 20 });
    } else if (source instanceof Uint8Array) {
      totalBytes = source.byteLength;
      input = [source];
    } else {
      input = source;
    }

    // One frame per Send, sized so that the last one fits the end frame and digest too.
    const frameBytes = this.#ops.sendChunkBytes - FRAME_HEADER_BYTES - TRAILER_BYTES;
    let bytesSent = 0;
    let local = "";
    const feed = async (_send: Send, prepare: PrepareSend): Promise<void> => {
      const frames = copyFrames(input, frameBytes);
      const pull = (): Promise<IteratorResult<CopyChunk>> =>
        frames.next().catch((error: unknown) => {
          if (error instanceof WinRMError || (opts.signal?.aborted && error === opts.signal.reason)) throw error;
          throw new WinRMCopyError(`reading the copy source failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
        });
      // A source that stalls must not hold up cancelling.
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(opts.signal?.reason);
        if (opts.signal?.aborted) onAbort();
        else opts.signal?.addEventListener("abort", onAbort, { once: true });
      });
      aborted.catch(() => undefined);
      let reading: Promise<IteratorResult<CopyChunk>> | undefined;
      try {
        let current = await pull();
        let post = current.done ? undefined : prepare(current.value.data, current.value.last);
        while (!current.done && post) {
          const chunk = current.value;
          const sending = post();
          const failed = sending.then(() => new Promise<never>(() => undefined));
          failed.catch(() => undefined);
          let upcoming: IteratorResult<CopyChunk> | undefined;
          let upcomingPost: (() => Promise<void>) | undefined;
          if (!chunk.last) {
            // The next frame is read, hashed and encoded while the server works on this one.
            reading = pull();
            upcoming = await Promise.race([reading, failed, aborted]);
            reading = undefined;
            if (!upcoming.done) upcomingPost = prepare(upcoming.value.data, upcoming.value.last);
          }
          await sending;
          bytesSent += chunk.fileBytes;
          if (chunk.fileBytes > 0) opts.onProgress?.({ bytesSent, totalBytes });
          if (chunk.sha256) local = chunk.sha256;
          if (!upcoming) return;
          current = upcoming;
          post = upcomingPost;
        }
      } finally {
        if (onAbort) opts.signal?.removeEventListener("abort", onAbort);
        // Closes the source (a file's descriptor) when a Send failed half-way; queued behind a
        // read still under way, which a stalled source may never finish, so not waited for then.
        const closing = frames.return(undefined);
        if (reading) {
          reading.catch(() => undefined);
          closing.catch(() => undefined);
        } else {
          await closing;
        }
      }
    };

    const exec = { input: feed, deadline, timeoutSec: opts.timeoutSec, endInputOnFailure: true, holdConnection: true };
    const result = await this.#runOnce({ command, args: [], opts: { ...(opts.signal ? { signal: opts.signal } : {}) } }, exec);
    const host = this.#transport.hostLabel;
    const retry = "Copy it again; if it persists, check for a proxy or antivirus rewriting the file.";
    if (result.exitCode !== 0) {
      const output = result.stderr.trim() || result.stdout.trim() || "no output";
      if (/SHA-256 mismatch/.test(output)) {
        throw new WinRMCopyError(
          `the copy of ${remotePath} on ${host} is corrupt: the server's SHA-256 of the bytes it wrote differs from the local ${local}, so it removed them and left ${remotePath} as it was. ${retry}`,
          { exitCode: result.exitCode },
        );
      }
      throw new WinRMCopyError(
        `copying to ${remotePath} on ${host} failed (exit code ${result.exitCode}): ${output}. ` +
          "Check that the user may write there, that the disk has room, and pass overwrite: true to replace an existing file.",
        { exitCode: result.exitCode },
      );
    }
    const remote = /sha256:([0-9a-fA-F]{64})/.exec(result.stdout)?.[1]?.toLowerCase();
    if (!remote) {
      throw new WinRMCopyError(`the copy script on ${host} reported no checksum (stdout: ${JSON.stringify(result.stdout.slice(0, 200))}); is powershell.exe 3.0 or later installed?`, { exitCode: 0 });
    }
    if (remote !== local) {
      throw new WinRMCopyError(`the copy of ${remotePath} on ${host} is corrupt: SHA-256 ${remote} on the server, ${local} locally. ${retry}`, { exitCode: 0 });
    }
    return { remotePath, bytes: bytesSent, sha256: local };
  }

  /** Deletes shells opened with openShell() that are still open, then closes the connection(s). */
  async close(): Promise<void> {
    const open = [...this.#shells];
    await Promise.all(open.map((shell) => shell.close().catch(() => undefined)));
    this.#transport.close();
  }

  async #runOnce({ command, args, opts, stdin }: Prepared, extra?: Partial<ExecOptions>): Promise<CommandResult> {
    const exec = { ...execOptions(opts, this.#ops, stdin), ...extra };
    opts.signal?.throwIfAborted();
    const shellId = await this.#ops.createShell();
    try {
      const { stdout, stderr, exitCode } = await this.#ops.execute(shellId, command, args, exec);
      return { stdout, stderr, exitCode };
    } finally {
      await this.#ops.discardShell(shellId);
    }
  }
}
