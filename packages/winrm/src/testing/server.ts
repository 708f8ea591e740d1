// The in-process WinRM test server: a WS-Management endpoint at /wsman speaking Basic and NTLM
// (with MS-WSMV 2.2.9.1.1.2.2 message encryption) over HTTP or HTTPS, implementing the Windows
// Remote Shell operations of MS-WSMV 3.1.4 against a pluggable command handler.
import { X509Certificate, randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { dirname } from "node:path";
import { PassThrough } from "node:stream";
import type { Readable } from "node:stream";
import {
  NTLM_FLAGS,
  acceptAuthenticateMessage,
  channelBindingsHash,
  createChallengeMessage,
  decryptWinRMBody,
  encryptWinRMBody,
  fileTimeNow,
  isEncryptedContentType,
  parseNegotiateMessage,
} from "../ntlm/index.ts";
import type { NtlmSession } from "../ntlm/index.ts";
import { createSelfSignedCertificate } from "./cert.ts";
import { windowsPathOnDisk } from "./files.ts";
import { bootstrapKind, defaultCommandHandler, encodeCodePage, extractPowerShellScript, normalizeWindowsPath } from "./handler.ts";
import type { CodePage, WinRMCommandContext, WinRMCommandHandler } from "./handler.ts";
import {
  ACTION,
  CMD_RESOURCE_URI,
  FAULTS,
  NS,
  SIGNAL,
  commandResponse,
  createResponse,
  deleteResponse,
  faultResponse,
  identifyResponse,
  receiveResponse,
  sendResponse,
  signalResponse,
} from "./soap.ts";
import type { FaultSpec, StreamChunk } from "./soap.ts";
import { base64Content, child, childrenNamed, parseXmlBytes } from "./xml.ts";
import type { XmlElement } from "./xml.ts";

/** An authentication scheme the test server can offer. */
export type WinRMTestAuth = "basic" | "ntlm";

/** Options of startWinRMTestServer. */
export interface WinRMTestServerOptions {
  /** Schemes to accept (default both). A default Windows listener offers NTLM (Negotiate) only. */
  auth?: WinRMTestAuth | WinRMTestAuth[];
  /** Serve HTTPS: your own key/cert, or true for a fresh self-signed certificate (exported as `ca`). */
  https?: { key: string | Buffer; cert: string | Buffer } | true;
  /** Accept Basic and unencrypted NTLM bodies over plain HTTP (default false, like Windows). */
  allowUnencrypted?: boolean;
  /** user → password; keys and logins may be "user", "DOMAIN\\user" or "user@domain" (default { vagrant: "vagrant" }). */
  users?: Record<string, string>;
  /** Users who authenticate but may not use WinRM: every operation answers the AccessDenied fault. */
  deniedUsers?: string[];
  /** Runs each Command (default: defaultCommandHandler). */
  handler?: WinRMCommandHandler;
  /** Delay added before every response, in milliseconds. */
  latencyMs?: number;
  /** Most output bytes one Receive response carries; smaller values split output over more Receives (default 65536). */
  receiveChunkSize?: number;
  /** Caps how long a Receive waits for output before the TimedOut fault (default: the request's OperationTimeout). */
  operationTimeoutMs?: number;
  /** Open shells allowed at once (MaxShellsPerUser, default 30). */
  maxShells?: number;
  /** Requests processed at once, long-polling Receives included (MaxConcurrentOperationsPerUser, default 1500). */
  maxConcurrentOperations?: number;
  /** Largest SOAP envelope accepted, in bytes (MaxEnvelopeSizekb, default 512000). */
  maxEnvelopeSize?: number;
  /** HTTPS + NTLM: refuse an AUTHENTICATE without the right channel binding token (CbtHardeningLevel=Strict). */
  strictChannelBinding?: boolean;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on (default 0: a free port). */
  port?: number;
  /** NetBIOS machine name used in faults, NTLM target info and the default handler (default "WINRM-TEST"). */
  machineName?: string;
  /** wsmid:ProductVersion for authenticated Identify (default Windows Server 2022). */
  productVersion?: string;
  /** Initial content of the virtual file system. */
  files?: Iterable<[string, Buffer]>;
  /**
   * Keep the file system on disk in this folder instead of `files` (C:\a\b.txt is <fileRoot>/C/a/b.txt):
   * copies then stream to disk and cost no memory whatever their size. Initial `files` are written there.
   */
  fileRoot?: string;
}

/** Counters a test can assert on; the object is live and updated in place. */
export interface WinRMTestServerStats {
  openShells: number;
  shellsCreated: number;
  commandsStarted: number;
  /** Commands whose handler has not finished yet. */
  runningCommands: number;
  requests: number;
  /** HTTP body bytes received and sent. */
  bytesIn: number;
  bytesOut: number;
  connections: number;
  /** NTLM handshakes started (NEGOTIATE messages received). */
  authHandshakes: number;
  /** 401 answers. */
  authFailures: number;
  faults: number;
  operations: { identify: number; create: number; command: number; send: number; receive: number; signal: number; delete: number };
}

/** A running test server. */
export interface WinRMTestServer {
  /** The endpoint, e.g. http://127.0.0.1:41234/wsman. */
  url: string;
  host: string;
  port: number;
  /** PEM of the server certificate when serving HTTPS (pass it to the client as its CA). */
  ca?: string;
  stats: WinRMTestServerStats;
  /** The virtual file system, keyed by normalised Windows path (backslashes, upper-case drive letter). */
  files: Map<string, Buffer>;
  /** Ids of the shells currently open. */
  shellIds(): string[];
  /** Stops listening, aborts running commands and destroys every connection. */
  close(): Promise<void>;
}

interface OutputItem {
  name: "stdout" | "stderr";
  data: Buffer;
}

interface CommandState {
  id: string;
  stdin: PassThrough;
  queue: OutputItem[];
  finished: boolean;
  exitCode: number;
  doneReported: boolean;
  abort: AbortController;
  wake: Set<() => void>;
}

interface ShellState {
  id: string;
  owner: string;
  env: Record<string, string>;
  workingDirectory?: string;
  codePage: CodePage;
  commands: Map<string, CommandState>;
}

interface NtlmConnection {
  negotiate?: Buffer;
  challenge?: Buffer;
  session?: NtlmSession;
  user?: string;
}

interface Reply {
  status: number;
  body: string;
}

class Fault extends Error {
  readonly spec: FaultSpec;
  constructor(spec: FaultSpec) {
    super(spec.message);
    this.spec = spec;
  }
}

const SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8";
const DEFAULT_PRODUCT_VERSION = "OS: 10.0.20348 SP: 0.0 Stack: 3.0";
// cmd.exe refuses command lines longer than 8191 characters (ERROR_FILENAME_EXCED_RANGE).
const MAX_COMMAND_LINE = 8191;

/** Reads `stream` up to its first LF; the rest (what follows the LF, then later data) flows on through `rest`. */
function firstLine(stream: PassThrough): Promise<{ line: string; rest: PassThrough }> {
  return new Promise((resolve) => {
    const rest = new PassThrough();
    const parts: Buffer[] = [];
    let done = false;
    const finish = (line: string): void => {
      done = true;
      resolve({ line, rest });
    };
    const onData = (chunk: Buffer): void => {
      if (done) return;
      const newline = chunk.indexOf(0x0a);
      if (newline < 0) {
        parts.push(chunk);
        return;
      }
      parts.push(chunk.subarray(0, newline));
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.pause();
      const tail = chunk.subarray(newline + 1);
      if (tail.length > 0) rest.write(tail);
      stream.pipe(rest);
      stream.resume();
      finish(Buffer.concat(parts).toString("latin1"));
    };
    const onEnd = (): void => {
      rest.end();
      finish(Buffer.concat(parts).toString("latin1"));
    };
    stream.on("data", onData);
    stream.once("end", onEnd);
  });
}

function parseDuration(value: string | undefined): number | undefined {
  const match = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(value?.trim() ?? "");
  if (!match) return undefined;
  return ((Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0)) * 60 + Number(match[3] ?? 0)) * 1000;
}

function localUser(name: string): string {
  const backslash = name.lastIndexOf("\\");
  const at = name.indexOf("@");
  return (backslash >= 0 ? name.slice(backslash + 1) : at >= 0 ? name.slice(0, at) : name).toLowerCase();
}

/** Starts a WinRM endpoint on a loopback port; close() it when the test is done. */
export async function startWinRMTestServer(options: WinRMTestServerOptions = {}): Promise<WinRMTestServer> {
  const schemes = new Set<WinRMTestAuth>(options.auth === undefined ? ["basic", "ntlm"] : Array.isArray(options.auth) ? options.auth : [options.auth]);
  const passwords = new Map<string, string>();
  for (const [user, password] of Object.entries(options.users ?? { vagrant: "vagrant" })) passwords.set(localUser(user), password);
  const denied = new Set((options.deniedUsers ?? []).map(localUser));
  const handler = options.handler ?? defaultCommandHandler;
  const machineName = options.machineName ?? "WINRM-TEST";
  const receiveChunkSize = Math.max(1, options.receiveChunkSize ?? 65536);
  const maxShells = options.maxShells ?? 30;
  const maxOperations = options.maxConcurrentOperations ?? 1500;
  const maxEnvelope = options.maxEnvelopeSize ?? 512000;
  const host = options.host ?? "127.0.0.1";
  const files = new Map<string, Buffer>();
  const fileRoot = options.fileRoot;
  for (const [path, data] of options.files ?? []) {
    if (fileRoot === undefined) {
      files.set(normalizeWindowsPath(path), data);
    } else {
      const onDisk = windowsPathOnDisk(fileRoot, normalizeWindowsPath(path));
      await mkdir(dirname(onDisk), { recursive: true });
      await writeFile(onDisk, data);
    }
  }

  let tls: { key: string | Buffer; cert: string | Buffer } | undefined;
  if (options.https === true) {
    const generated = createSelfSignedCertificate();
    tls = { key: generated.key, cert: generated.cert };
  } else if (options.https) {
    tls = options.https;
  }
  const secure = tls !== undefined;
  // tls-server-end-point channel bindings hash the server's own (leaf) certificate, RFC 5929 4.1.
  const certificateDer = tls ? Buffer.from(new X509Certificate(tls.cert).raw) : undefined;
  const unencryptedAllowed = options.allowUnencrypted ?? false;

  const stats: WinRMTestServerStats = {
    openShells: 0,
    shellsCreated: 0,
    commandsStarted: 0,
    runningCommands: 0,
    requests: 0,
    bytesIn: 0,
    bytesOut: 0,
    connections: 0,
    authHandshakes: 0,
    authFailures: 0,
    faults: 0,
    operations: { identify: 0, create: 0, command: 0, send: 0, receive: 0, signal: 0, delete: 0 },
  };
  const shells = new Map<string, ShellState>();
  const sockets = new Set<Socket>();
  const ntlmBySocket = new WeakMap<Socket, NtlmConnection>();
  let inFlight = 0;
  let closed = false;
  let url = "";

  const lookupPassword = (user: string): string | undefined => passwords.get(localUser(user));

  // ---- shell operations -------------------------------------------------------------------------

  const header = (envelope: XmlElement, ns: string, local: string): XmlElement | undefined => child(child(envelope, NS.soap, "Header"), ns, local);

  const selector = (envelope: XmlElement, name: string): string | undefined =>
    childrenNamed(header(envelope, NS.wsman, "SelectorSet"), NS.wsman, "Selector")
      .find((s) => s.attrs.Name === name)
      ?.text.trim();

  const findShell = (envelope: XmlElement, user: string): ShellState => {
    const id = selector(envelope, "ShellId") ?? "";
    const shell = shells.get(id.toUpperCase());
    if (!shell) throw new Fault(FAULTS.unknownShell(id));
    if (localUser(shell.owner) !== localUser(user)) throw new Fault(FAULTS.accessDenied());
    return shell;
  };

  const findCommand = (shell: ShellState, commandId: string | undefined): CommandState => {
    const command = shell.commands.get((commandId ?? "").toUpperCase());
    if (!command) throw new Fault(FAULTS.unknownCommand(commandId ?? ""));
    return command;
  };

  const stopCommand = (command: CommandState, reason: string): void => {
    if (!command.abort.signal.aborted) command.abort.abort(reason);
    if (!command.stdin.writableEnded) command.stdin.end();
    for (const wake of command.wake) wake();
  };

  const removeShell = (shell: ShellState): void => {
    for (const command of shell.commands.values()) stopCommand(command, "terminate");
    shell.commands.clear();
    if (shells.delete(shell.id)) stats.openShells = shells.size;
  };

  const option = (envelope: XmlElement, name: string): string | undefined =>
    childrenNamed(header(envelope, NS.wsman, "OptionSet"), NS.wsman, "Option")
      .find((o) => o.attrs.Name === name)
      ?.text.trim();

  const create = (envelope: XmlElement, body: XmlElement, user: string, relatesTo: string, clientIp: string): string => {
    if (shells.size >= maxShells) throw new Fault(FAULTS.tooManyShells(maxShells));
    const shellElement = child(body, NS.shell, "Shell");
    const env: Record<string, string> = {};
    for (const variable of childrenNamed(child(shellElement, NS.shell, "Environment"), NS.shell, "Variable")) {
      if (variable.attrs.Name) env[variable.attrs.Name] = variable.text;
    }
    const workingDirectory = child(shellElement, NS.shell, "WorkingDirectory")?.text.trim();
    const requestedCodePage = option(envelope, "WINRS_CODEPAGE");
    // Without the option Windows uses the system's OEM code page: 437 on an en-US installation.
    const codePage = requestedCodePage === undefined ? 437 : Number(requestedCodePage);
    if (codePage !== 437 && codePage !== 65001) throw new Fault(FAULTS.unsupportedCodePage(requestedCodePage ?? ""));
    const id = randomUUID().toUpperCase();
    shells.set(id, { id, owner: user, env, workingDirectory: workingDirectory || undefined, codePage, commands: new Map() });
    stats.shellsCreated++;
    stats.openShells = shells.size;
    return createResponse({ relatesTo, address: url, shellId: id, owner: user, clientIp, idleTimeoutSec: 7200 });
  };

  const command = (envelope: XmlElement, body: XmlElement, user: string, relatesTo: string): string => {
    const shell = findShell(envelope, user);
    const line = child(body, NS.shell, "CommandLine");
    const commandText = child(line, NS.shell, "Command")?.text.trim() ?? "";
    const args = childrenNamed(line, NS.shell, "Arguments").map((a) => a.text);
    const commandLine = [commandText, ...args].join(" ");
    if (commandLine.length > MAX_COMMAND_LINE) throw new Fault(FAULTS.commandLineTooLong());
    const id = (line?.attrs.CommandId ?? randomUUID()).toUpperCase();
    const state: CommandState = {
      id,
      // About one envelope of stdin the command has not read yet is held; a Send past that waits until it has been read.
      stdin: new PassThrough({ writableHighWaterMark: maxEnvelope, readableHighWaterMark: 1 }),
      queue: [],
      finished: false,
      exitCode: 0,
      doneReported: false,
      abort: new AbortController(),
      wake: new Set(),
    };
    shell.commands.set(id, state);
    stats.commandsStarted++;
    stats.runningCommands++;
    const encoded = extractPowerShellScript(commandLine);
    const kind = bootstrapKind(encoded);
    const output = (name: "stdout" | "stderr") => ({
      write(chunk: string | Uint8Array): void {
        if (state.finished) return;
        const data = typeof chunk === "string" ? encodeCodePage(chunk, shell.codePage) : Buffer.from(chunk);
        if (data.length === 0) return;
        state.queue.push({ name, data });
        for (const wake of state.wake) wake();
      },
    });
    const contextFor = (script: string | undefined, stdin: Readable): WinRMCommandContext => ({
      shell: script === undefined ? "cmd" : "powershell",
      command: kind === "cmdfile" ? (script ?? "") : commandText,
      args: kind === "cmdfile" ? [] : args,
      commandLine: kind === "cmdfile" ? (script ?? "") : commandLine,
      ...(script === undefined || kind === "cmdfile" ? {} : { script }),
      stdin,
      codePage: shell.codePage,
      stdout: output("stdout"),
      stderr: output("stderr"),
      signal: state.abort.signal,
      env: { ...shell.env },
      ...(shell.workingDirectory ? { workingDirectory: shell.workingDirectory } : {}),
      user,
      shellId: shell.id,
      commandId: id,
      files,
      ...(fileRoot === undefined ? {} : { fileRoot }),
      machineName,
    });
    void (async () => {
      let exitCode: number;
      let stdin: Readable = state.stdin;
      try {
        let context: WinRMCommandContext;
        if (kind === undefined) {
          context = contextFor(encoded, state.stdin);
        } else {
          // Both bootstraps read the script from the first stdin line; the handler sees the script
          // itself, as it would have arrived under -EncodedCommand (or as a cmd command line).
          const split = await firstLine(state.stdin);
          stdin = split.rest;
          const script = Buffer.from(split.line.trim(), "base64").toString("utf8");
          context = kind === "stdin" ? contextFor(script, split.rest) : { ...contextFor(undefined, split.rest), command: script, commandLine: script };
        }
        exitCode = (await handler(context)) ?? 0;
      } catch (error) {
        output("stderr").write(`${(error as Error)?.message ?? String(error)}\r\n`);
        exitCode = 1;
      }
      state.exitCode = exitCode;
      state.finished = true;
      stats.runningCommands--;
      // Drain unread stdin so a handler that ignores it never blocks the client's Sends.
      state.stdin.resume();
      stdin.resume();
      for (const wake of state.wake) wake();
    })();
    return commandResponse(relatesTo, id);
  };

  const send = async (envelope: XmlElement, body: XmlElement, user: string, relatesTo: string, gone: AbortSignal): Promise<string> => {
    const shell = findShell(envelope, user);
    for (const stream of childrenNamed(child(body, NS.shell, "Send"), NS.shell, "Stream")) {
      const state = findCommand(shell, stream.attrs.CommandId);
      if (stream.attrs.Name && stream.attrs.Name !== "stdin") continue;
      if (!state.stdin.writableEnded) {
        const data = base64Content(stream);
        const full = data.length > 0 && !state.stdin.write(data);
        if (stream.attrs.End === "true" || stream.attrs.End === "1") state.stdin.end();
        if (full) await drained(state, gone);
      }
    }
    return sendResponse(relatesTo);
  };

  // Until the command has read what is buffered, ends, or the client gives up on the request.
  const drained = (state: CommandState, gone: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      // The command's wakes also come with output; only its end counts here.
      const onWake = (): void => {
        if (state.finished) done();
      };
      const done = (): void => {
        state.stdin.off("drain", done);
        state.abort.signal.removeEventListener("abort", done);
        gone.removeEventListener("abort", done);
        state.wake.delete(onWake);
        resolve();
      };
      state.stdin.once("drain", done);
      state.abort.signal.addEventListener("abort", done, { once: true });
      gone.addEventListener("abort", done, { once: true });
      state.wake.add(onWake);
    });

  const signal = (envelope: XmlElement, body: XmlElement, user: string, relatesTo: string): string => {
    const shell = findShell(envelope, user);
    const element = child(body, NS.shell, "Signal");
    const state = findCommand(shell, element?.attrs.CommandId);
    const code = child(element, NS.shell, "Code")?.text.trim() ?? "";
    if (code === SIGNAL.terminate) {
      stopCommand(state, "terminate");
      shell.commands.delete(state.id);
    } else if (code === SIGNAL.ctrlC || code === SIGNAL.ctrlBreak) {
      stopCommand(state, code === SIGNAL.ctrlC ? "ctrl_c" : "ctrl_break");
    } else {
      throw new Fault({ code: "Sender", subcode: "InvalidParameter", wsmanCode: 2150858882, message: `The signal code ${code} is not supported.` });
    }
    return signalResponse(relatesTo);
  };

  // Takes output for one Receive: at most receiveChunkSize bytes, and no more than keeps the
  // response envelope within `envelopeLimit` (the client's MaxEnvelopeSize, DSP0226 6.2).
  const takeOutput = (state: CommandState, relatesTo: string, envelopeLimit: number): StreamChunk[] => {
    const chunks: StreamChunk[] = [];
    const b64 = (n: number): number => 4 * Math.ceil(n / 3);
    const streamOverhead = `<rsp:Stream Name="stdout" CommandId="${state.id}"></rsp:Stream>`.length;
    // The largest response without data: both End streams and a Done state with the longest exit code.
    let used = receiveResponse({
      relatesTo,
      commandId: state.id,
      chunks: [
        { name: "stdout", data: Buffer.alloc(0), end: true },
        { name: "stderr", data: Buffer.alloc(0), end: true },
      ],
      exitCode: -2147483648,
    }).length;
    let budget = receiveChunkSize;
    while (budget > 0 && state.queue.length > 0) {
      const item = state.queue[0] as OutputItem;
      const last = chunks.at(-1);
      const appending = last !== undefined && last.name === item.name;
      const held = appending ? last.data.length : 0;
      const room = envelopeLimit - used - (appending ? -b64(held) : streamOverhead);
      const fits = Math.floor(room / 4) * 3 - held;
      const take = Math.min(budget, fits, item.data.length);
      if (take <= 0) break;
      const part = item.data.subarray(0, take);
      if (appending) {
        used += b64(held + take) - b64(held);
        last.data = Buffer.concat([last.data, part]);
      } else {
        used += streamOverhead + b64(take);
        chunks.push({ name: item.name, data: part });
      }
      budget -= take;
      if (take === item.data.length) state.queue.shift();
      else item.data = item.data.subarray(take);
    }
    return chunks;
  };

  // MS-WSMV 3.1.4.1.7: the client's MaxEnvelopeSize bounds the response, capped at MaxEnvelopeSizekb.
  const responseLimit = (envelope: XmlElement): number => {
    const requested = Number(header(envelope, NS.wsman, "MaxEnvelopeSize")?.text.trim());
    return Number.isFinite(requested) && requested > 0 ? Math.min(requested, maxEnvelope) : maxEnvelope;
  };

  const receive = async (envelope: XmlElement, body: XmlElement, user: string, relatesTo: string, gone: AbortSignal): Promise<string> => {
    const shell = findShell(envelope, user);
    const desired = child(child(body, NS.shell, "Receive"), NS.shell, "DesiredStream");
    const state = findCommand(shell, desired?.attrs.CommandId);
    const requested = parseDuration(header(envelope, NS.wsman, "OperationTimeout")?.text) ?? 60_000;
    const timeout = Math.min(requested, options.operationTimeoutMs ?? requested);
    if (state.queue.length === 0 && !state.finished) {
      const outcome = await new Promise<"ready" | "timeout">((resolve) => {
        const wake = (): void => {
          // Coalesce output written in the same tick, as Windows batches a process's writes.
          setImmediate(() => finish("ready"));
        };
        const timer = setTimeout(() => finish("timeout"), timeout);
        const onGone = (): void => finish("ready");
        function finish(result: "ready" | "timeout"): void {
          clearTimeout(timer);
          state.wake.delete(wake);
          gone.removeEventListener("abort", onGone);
          resolve(result);
        }
        state.wake.add(wake);
        gone.addEventListener("abort", onGone, { once: true });
      });
      if (outcome === "timeout") throw new Fault(FAULTS.timedOut());
      if (!shells.has(shell.id) || !shell.commands.has(state.id)) throw new Fault(FAULTS.unknownShell(shell.id));
    }
    const chunks = takeOutput(state, relatesTo, responseLimit(envelope));
    if (state.finished && state.queue.length === 0) {
      state.doneReported = true;
      chunks.push({ name: "stdout", data: Buffer.alloc(0), end: true }, { name: "stderr", data: Buffer.alloc(0), end: true });
      return receiveResponse({ relatesTo, commandId: state.id, chunks, exitCode: state.exitCode });
    }
    return receiveResponse({ relatesTo, commandId: state.id, chunks });
  };

  const remove = (envelope: XmlElement, user: string, relatesTo: string): string => {
    removeShell(findShell(envelope, user));
    return deleteResponse(relatesTo);
  };

  const dispatch = async (soap: Buffer, user: string | undefined, clientIp: string, gone: AbortSignal): Promise<Reply> => {
    let envelope: XmlElement;
    try {
      envelope = parseXmlBytes(soap);
    } catch (error) {
      return faultReply(FAULTS.badRequest((error as Error).message), undefined);
    }
    const body = child(envelope, NS.soap, "Body");
    if (envelope.ns !== NS.soap || envelope.local !== "Envelope" || !body) {
      return faultReply(FAULTS.badRequest("the document is not a SOAP 1.2 envelope"), undefined);
    }
    if (child(body, NS.identity, "Identify")) {
      stats.operations.identify++;
      return { status: 200, body: identifyResponse(user === undefined ? "OS: 0.0.0 SP: 0.0 Stack: 3.0" : (options.productVersion ?? DEFAULT_PRODUCT_VERSION)) };
    }
    const relatesTo = header(envelope, NS.addressing, "MessageID")?.text.trim();
    if (user === undefined) return faultReply(FAULTS.accessDenied(), relatesTo);
    if (!relatesTo) return faultReply(FAULTS.badRequest("the request has no wsa:MessageID header"), undefined);
    const action = header(envelope, NS.addressing, "Action")?.text.trim() ?? "";
    const resourceUri = header(envelope, NS.wsman, "ResourceURI")?.text.trim() ?? "";
    try {
      const requestedEnvelope = Number(header(envelope, NS.wsman, "MaxEnvelopeSize")?.text.trim() || Infinity);
      if (requestedEnvelope < 8192) throw new Fault(FAULTS.maxEnvelopeTooSmall(requestedEnvelope));
      if (denied.has(localUser(user))) throw new Fault(FAULTS.accessDenied());
      if (resourceUri !== CMD_RESOURCE_URI) throw new Fault(FAULTS.unsupportedResource(resourceUri));
      switch (action) {
        case ACTION.create:
          stats.operations.create++;
          return { status: 200, body: create(envelope, body, user, relatesTo, clientIp) };
        case ACTION.command:
          stats.operations.command++;
          return { status: 200, body: command(envelope, body, user, relatesTo) };
        case ACTION.send:
          stats.operations.send++;
          return { status: 200, body: await send(envelope, body, user, relatesTo, gone) };
        case ACTION.receive:
          stats.operations.receive++;
          return { status: 200, body: await receive(envelope, body, user, relatesTo, gone) };
        case ACTION.signal:
          stats.operations.signal++;
          return { status: 200, body: signal(envelope, body, user, relatesTo) };
        case ACTION.delete:
          stats.operations.delete++;
          return { status: 200, body: remove(envelope, user, relatesTo) };
        default:
          throw new Fault(FAULTS.unsupportedAction(action));
      }
    } catch (error) {
      if (error instanceof Fault) return faultReply(error.spec, relatesTo);
      throw error;
    }
  };

  const faultReply = (spec: FaultSpec, relatesTo: string | undefined): Reply => {
    stats.faults++;
    return { status: 500, body: faultResponse(spec, relatesTo, machineName) };
  };

  // ---- HTTP and authentication ------------------------------------------------------------------

  const challengeHeaders = (): string[] => {
    const offers: string[] = [];
    if (schemes.has("ntlm")) offers.push("Negotiate");
    // Windows does not offer Basic where it would refuse it (plain HTTP with AllowUnencrypted=false).
    if (schemes.has("basic") && (secure || unencryptedAllowed)) offers.push('Basic realm="WSMAN"');
    return offers;
  };

  const write = (res: http.ServerResponse, status: number, headers: Record<string, string | string[]>, body: Buffer): void => {
    const send = (): void => {
      if (res.destroyed) return;
      stats.bytesOut += body.length;
      res.writeHead(status, { Server: "Microsoft-HTTPAPI/2.0", "Content-Length": String(body.length), ...headers });
      res.end(body);
    };
    if (options.latencyMs && options.latencyMs > 0) setTimeout(send, options.latencyMs);
    else send();
  };

  const unauthorized = (res: http.ServerResponse, reason: string, extra: string[] = []): void => {
    stats.authFailures++;
    const offers = extra.length > 0 ? extra : challengeHeaders();
    // The reason header is ours (Windows sends none); it makes refusals easy to diagnose in tests.
    write(res, 401, { "WWW-Authenticate": offers, "X-WinRM-Test-Server-Reason": reason }, Buffer.alloc(0));
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): Promise<void> => {
    stats.requests++;
    stats.bytesIn += raw.length;
    const socket = req.socket;
    const path = (req.url ?? "").split("?")[0]?.toLowerCase();
    if (path !== "/wsman") return write(res, 404, {}, Buffer.alloc(0));
    if (req.method !== "POST") return write(res, 405, { Allow: "POST" }, Buffer.alloc(0));
    const contentType = req.headers["content-type"] ?? "";
    const authorization = req.headers.authorization ?? "";
    const clientIp = socket.remoteAddress ?? "";

    // wsmid Identify may be sent without credentials when the client asks for it explicitly.
    if (!authorization && String(req.headers.wsmanidentify ?? "").toLowerCase() === "unauthenticated") {
      const reply = await dispatch(raw, undefined, clientIp, new AbortController().signal);
      return write(res, reply.status, { "Content-Type": SOAP_CONTENT_TYPE }, Buffer.from(reply.body, "utf8"));
    }

    let user: string | undefined;
    let session: NtlmSession | undefined;
    const scheme = authorization.split(" ", 1)[0]?.toLowerCase() ?? "";
    const token = authorization.slice(scheme.length).trim();
    if (scheme === "basic") {
      if (!schemes.has("basic")) return unauthorized(res, "Basic authentication is disabled on this listener");
      if (!secure && !unencryptedAllowed) return unauthorized(res, "Basic authentication over plain HTTP is refused (AllowUnencrypted=false)");
      const decoded = Buffer.from(token, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      const login = colon >= 0 ? decoded.slice(0, colon) : decoded;
      const password = colon >= 0 ? decoded.slice(colon + 1) : "";
      const expected = lookupPassword(login);
      if (expected === undefined || expected !== password) return unauthorized(res, "the user name or password is incorrect");
      user = login;
    } else if (scheme === "negotiate" || scheme === "ntlm") {
      if (!schemes.has("ntlm")) return unauthorized(res, "Negotiate (NTLM) authentication is disabled on this listener");
      const message = Buffer.from(token, "base64");
      if (message.length < 12 || message.subarray(0, 8).toString("latin1") !== "NTLMSSP\0") {
        return unauthorized(res, "only raw NTLMSSP tokens are accepted inside Negotiate (no SPNEGO/Kerberos)");
      }
      const type = message.readUInt32LE(8);
      const previous = ntlmBySocket.get(socket);
      ntlmBySocket.delete(socket);
      if (type === 1) {
        stats.authHandshakes++;
        let clientFlags: number;
        try {
          clientFlags = parseNegotiateMessage(message).flags;
        } catch {
          return unauthorized(res, "malformed NTLM NEGOTIATE message");
        }
        const supported =
          NTLM_FLAGS.NEGOTIATE_UNICODE |
          NTLM_FLAGS.REQUEST_TARGET |
          NTLM_FLAGS.NEGOTIATE_SIGN |
          NTLM_FLAGS.NEGOTIATE_SEAL |
          NTLM_FLAGS.NEGOTIATE_NTLM |
          NTLM_FLAGS.NEGOTIATE_ALWAYS_SIGN |
          NTLM_FLAGS.NEGOTIATE_EXTENDED_SESSIONSECURITY |
          NTLM_FLAGS.NEGOTIATE_VERSION |
          NTLM_FLAGS.NEGOTIATE_128 |
          NTLM_FLAGS.NEGOTIATE_KEY_EXCH |
          NTLM_FLAGS.NEGOTIATE_56;
        const flags = ((clientFlags & supported) | NTLM_FLAGS.TARGET_TYPE_SERVER | NTLM_FLAGS.NEGOTIATE_TARGET_INFO) >>> 0;
        const challenge = createChallengeMessage({
          flags,
          targetName: machineName,
          targetInfo: { nbDomain: machineName, nbComputer: machineName, dnsDomain: machineName.toLowerCase(), dnsComputer: machineName.toLowerCase(), timestamp: fileTimeNow() },
        });
        ntlmBySocket.set(socket, { negotiate: message, challenge });
        return unauthorized(res, "NTLM challenge", [`Negotiate ${challenge.toString("base64")}`]);
      }
      if (type !== 3 || !previous?.challenge || previous.user) return unauthorized(res, "NTLM AUTHENTICATE without a CHALLENGE on this connection");
      let expectedChannelBindings: Buffer | undefined;
      if (certificateDer && options.strictChannelBinding) expectedChannelBindings = channelBindingsHash(certificateDer);
      const result = acceptAuthenticateMessage({
        negotiateMessage: previous.negotiate,
        challengeMessage: previous.challenge,
        authenticateMessage: message,
        lookupPassword,
        ...(expectedChannelBindings ? { expectedChannelBindings } : {}),
      });
      if (!result.ok) return unauthorized(res, `NTLM authentication failed: ${result.reason}`);
      const login = result.domain ? `${result.domain}\\${result.user}` : result.user;
      ntlmBySocket.set(socket, { session: result.session, user: login });
      user = login;
      session = result.session;
    } else if (authorization) {
      return unauthorized(res, `unsupported authorization scheme "${scheme}"`);
    } else {
      const state = ntlmBySocket.get(socket);
      if (!state?.user) return unauthorized(res, "authentication required");
      user = state.user;
      session = state.session;
    }

    let soap: Buffer;
    let encrypt = false;
    if (isEncryptedContentType(contentType)) {
      if (!session) return unauthorized(res, "an encrypted body needs an NTLM session on this connection");
      try {
        soap = decryptWinRMBody(session, raw, contentType);
      } catch (error) {
        return write(res, 400, { "X-WinRM-Test-Server-Reason": (error as Error).message }, Buffer.alloc(0));
      }
      encrypt = true;
    } else {
      soap = raw;
      if (soap.length > 0 && session && !secure && !unencryptedAllowed) {
        return unauthorized(res, "unencrypted NTLM request over plain HTTP refused (AllowUnencrypted=false): use message encryption");
      }
    }
    if (soap.length === 0) return write(res, 200, {}, Buffer.alloc(0));

    const respond = (reply: Reply): void => {
      const payload = Buffer.from(reply.body, "utf8");
      if (encrypt && session) {
        const sealed = encryptWinRMBody(session, payload);
        write(res, reply.status, { "Content-Type": sealed.contentType }, sealed.body);
      } else {
        write(res, reply.status, { "Content-Type": SOAP_CONTENT_TYPE }, payload);
      }
    };
    // Windows refuses a request over MaxEnvelopeSizekb with a bare HTTP 413 (its own client reports
    // it as ERROR_WSMAN_HTTP_REQUEST_TOO_LARGE_STATUS, 0x80338111), not with a SOAP fault.
    if (soap.length > maxEnvelope) return write(res, 413, {}, Buffer.alloc(0));
    if (inFlight >= maxOperations) return respond(faultReply(FAULTS.tooManyOperations(maxOperations), undefined));
    const gone = new AbortController();
    const onClose = (): void => gone.abort();
    res.once("close", onClose);
    inFlight++;
    try {
      respond(await dispatch(soap, user, clientIp, gone.signal));
    } finally {
      inFlight--;
      res.off("close", onClose);
    }
  };

  // Large request bodies (a copy's Sends) go into one buffer per connection, reused from request to
  // request: a fresh ~500 KB buffer each time costs page faults worth many times its copying.
  const bodyBuffers = new WeakMap<Socket, { buffer: Buffer; busy: boolean }>();
  const REUSED_BODY = 64 * 1024;

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const limit = maxEnvelope * 2 + 65536;
    const declared = Number(req.headers["content-length"]);
    let reused: { buffer: Buffer; busy: boolean } | undefined;
    if (Number.isInteger(declared) && declared >= REUSED_BODY && declared <= limit) {
      reused = bodyBuffers.get(req.socket);
      if (!reused || (!reused.busy && reused.buffer.length < declared)) {
        reused = { buffer: Buffer.allocUnsafeSlow(declared + 4096), busy: false };
        bodyBuffers.set(req.socket, reused);
      }
      // A request pipelined behind one still being handled gets its own buffer.
      if (reused.busy) reused = undefined;
      else reused.busy = true;
    }
    const parts: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (part: Buffer) => {
      // Refuse absurd bodies before buffering them (encryption framing adds a little to the envelope).
      if (size + part.length > limit) tooLarge = true;
      else if (reused && size + part.length <= reused.buffer.length) part.copy(reused.buffer, size);
      else {
        if (reused) parts.push(Buffer.from(reused.buffer.subarray(0, size)));
        reused = releaseBody(reused);
        parts.push(part);
      }
      size += part.length;
    });
    req.on("end", () => {
      if (tooLarge) {
        reused = releaseBody(reused);
        stats.requests++;
        stats.bytesIn += size;
        write(res, 413, { Connection: "close" }, Buffer.alloc(0));
        return;
      }
      const body = reused ? reused.buffer.subarray(0, size) : Buffer.concat(parts);
      handle(req, res, body)
        .catch((error: unknown) => {
          if (!res.headersSent) write(res, 500, { "X-WinRM-Test-Server-Reason": (error as Error)?.message ?? "internal error" }, Buffer.alloc(0));
        })
        // Nothing reads the body once the request is answered: handlers get copies (strings, decoded stdin).
        .finally(() => releaseBody(reused));
    });
    req.on("error", () => releaseBody(reused));
  };

  const releaseBody = (reused: { busy: boolean } | undefined): undefined => {
    if (reused) reused.busy = false;
    return undefined;
  };

  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, onRequest) : http.createServer(onRequest);
  server.keepAliveTimeout = 120_000;
  server.on(tls ? "secureConnection" : "connection", (socket: Socket) => {
    stats.connections++;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  if (tls) {
    // Plain TCP sockets must be tracked too, so close() can destroy half-open TLS handshakes.
    server.on("connection", (socket: Socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  url = `${secure ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}/wsman`;

  return {
    url,
    host,
    port,
    ...(tls ? { ca: String(tls.cert) } : {}),
    stats,
    files,
    shellIds: () => [...shells.keys()],
    close: async () => {
      if (closed) return;
      closed = true;
      for (const shell of [...shells.values()]) removeShell(shell);
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections?.();
      await done;
    },
  };
}
