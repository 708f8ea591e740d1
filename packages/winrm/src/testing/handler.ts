// The command handler contract of the test server and its default implementation: cmd command
// lines run through /bin/sh, PowerShell scripts get a tiny interpreter for the basics, and the
// copy protocol (see README.md, "The copy protocol") writes into the virtual file system.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { diskStore, memoryStore } from "./files.ts";
import type { FileSink } from "./files.ts";

/** The console code pages the test server models (WINRS_CODEPAGE at Create; 437 when absent). */
export type CodePage = 437 | 65001;

// CP437's upper half, 0x80-0xFF.
const CP437_HIGH =
  "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0";
const CP437_ENCODE = new Map([...CP437_HIGH].map((c, i) => [c, 0x80 + i]));

/** Encodes text in a console code page; characters CP437 lacks become "?", as WideCharToMultiByte's default. */
export function encodeCodePage(text: string, codePage: CodePage): Buffer {
  if (codePage === 65001) return Buffer.from(text, "utf8");
  const out: number[] = [];
  for (const c of text) {
    const code = c.codePointAt(0) ?? 0x3f;
    out.push(code < 0x80 ? code : (CP437_ENCODE.get(c) ?? 0x3f));
  }
  return Buffer.from(out);
}

/** Where a command writes its output: strings are encoded in the shell's code page (context.codePage). */
export interface CommandOutput {
  write(chunk: string | Uint8Array): void;
}

/** Everything a command handler gets for one WinRM Command. */
export interface WinRMCommandContext {
  /** "powershell" when the command line starts powershell/pwsh with a script, else "cmd". */
  shell: "cmd" | "powershell";
  /** The rsp:Command text as sent. */
  command: string;
  /** The rsp:Arguments elements as sent. */
  args: string[];
  /** Command and arguments joined with spaces, as cmd.exe would see them. */
  commandLine: string;
  /** The PowerShell script: decoded from -EncodedCommand (UTF-16LE base64) or the text after -Command. */
  script?: string;
  /** Bytes the client sends with Send; ends when a Send carries End="true". */
  stdin: Readable;
  /** The shell's console code page (WINRS_CODEPAGE); strings written to stdout/stderr are encoded in it, bytes pass as they are. */
  codePage: CodePage;
  stdout: CommandOutput;
  stderr: CommandOutput;
  /** Aborted on Signal terminate / ctrl_c, on Delete of the shell and on close(); reason is the signal name. */
  signal: AbortSignal;
  /** The shell's environment variables (rsp:Environment at Create). */
  env: Record<string, string>;
  /** The shell's working directory (rsp:WorkingDirectory at Create), if any. */
  workingDirectory?: string;
  /** The authenticated user, as the client sent it (e.g. "DOMAIN\\user"). */
  user: string;
  shellId: string;
  commandId: string;
  /** The server's virtual file system, keyed by normalised Windows path (see normalizeWindowsPath). */
  files: Map<string, Buffer>;
  /** The server's fileRoot option: copies then read and write files in this folder instead of `files`. */
  fileRoot?: string;
  /** The server's machine name (what $env:COMPUTERNAME and hostname print). */
  machineName: string;
}

/** A command handler: writes output through the context and returns the exit code (undefined = 0). */
export type WinRMCommandHandler = (context: WinRMCommandContext) => number | void | Promise<number | void>;

/** The first line of a copy script; the script's `$d=` and `$w=` lines hold the destination (base64 UTF-8) and overwrite. */
export const COPY_MARKER = "# opsconductor-copy v2";

/** What a copy script appends to the destination for the temporary file it writes first. */
export const COPY_PARTIAL_SUFFIX = ".opsconductor-partial";

/** The first line of runPowerShell's stdin bootstrap: the script is the first stdin line (base64 UTF-8), caller data follows. */
export const STDIN_MARKER = "# opsconductor-stdin v1";

/** The first line of runCmd's long-script bootstrap: the cmd script is the first stdin line (base64 UTF-8). */
export const CMD_FILE_MARKER = "# opsconductor-cmdfile v1";

/** Which bootstrap a PowerShell script is, if any: its first line names it. */
export function bootstrapKind(script: string | undefined): "stdin" | "cmdfile" | undefined {
  const firstLine = script?.replace(/^\uFEFF/, "").split(/\r?\n/, 1)[0]?.trim();
  if (firstLine === STDIN_MARKER) return "stdin";
  if (firstLine === CMD_FILE_MARKER) return "cmdfile";
  return undefined;
}

/** Canonical form of a Windows path used as the VFS key: backslashes, no trailing separator, drive letter upper-case. */
export function normalizeWindowsPath(path: string): string {
  let p = path.trim().replace(/\//g, "\\").replace(/\\{2,}/g, "\\");
  if (/^[a-z]:/.test(p)) p = p[0]?.toUpperCase() + p.slice(1);
  if (p.length > 3 && p.endsWith("\\")) p = p.slice(0, -1);
  return p;
}

/** Encodes text as PowerShell's CLIXML error stream, the way powershell.exe writes stderr under -EncodedCommand. */
export function clixmlError(message: string): string {
  const escaped = message
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\r?\n/g, "_x000D__x000A_");
  return `#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">${escaped}_x000D__x000A_</S></Objs>`;
}

// \s as JavaScript's regular expressions define it; the common ASCII cases without a regex.
const isSpace = (code: number): boolean => code === 32 || (code >= 9 && code <= 13) || (code > 127 && /\s/.test(String.fromCharCode(code)));

/** Splits a command line the way CommandLineToArgvW mostly does: whitespace separates, double quotes group. */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  let current = "";
  let inQuotes = false;
  let started = false;
  // Runs of ordinary characters are taken with one slice each (a bootstrap's base64 is one long run).
  let from = 0;
  for (let i = 0; i < line.length; i++) {
    const code = line.charCodeAt(i);
    if (code === 34) {
      current += line.slice(from, i);
      from = i + 1;
      inQuotes = !inQuotes;
      started = true;
    } else if (!inQuotes && isSpace(code)) {
      current += line.slice(from, i);
      from = i + 1;
      if (started) out.push(current);
      current = "";
      started = false;
    } else {
      started = true;
    }
  }
  current += line.slice(from);
  if (started) out.push(current);
  return out;
}

/** Recognises powershell.exe / pwsh command lines and extracts the script they carry. */
export function extractPowerShellScript(commandLine: string): string | undefined {
  const tokens = splitCommandLine(commandLine);
  const exe = (tokens[0] ?? "").toLowerCase().replace(/^.*[\\/]/, "");
  if (!["powershell", "powershell.exe", "pwsh", "pwsh.exe"].includes(exe)) return undefined;
  for (let i = 1; i < tokens.length; i++) {
    const token = (tokens[i] ?? "").toLowerCase();
    if (!token.startsWith("-")) continue;
    const name = token.slice(1);
    // PowerShell accepts any unambiguous prefix: -e, -ec, -enc, -encodedcommand.
    if (name === "e" || name === "ec" || (name.length >= 3 && "encodedcommand".startsWith(name))) {
      return Buffer.from(tokens[i + 1] ?? "", "base64").toString("utf16le");
    }
    if (name === "c" || (name.length >= 2 && "command".startsWith(name))) {
      return tokens.slice(i + 1).join(" ");
    }
  }
  return "";
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part as Uint8Array));
  return Buffer.concat(parts);
}

function runShell(context: WinRMCommandContext): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", context.commandLine], {
      env: { ...process.env, ...context.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const onAbort = (): void => {
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 2000).unref();
    };
    context.signal.addEventListener("abort", onAbort, { once: true });
    // /bin/sh prints UTF-8; under code page 437 it is re-encoded as cmd.exe's output would be.
    const relay = (out: CommandOutput): ((chunk: Buffer) => void) => {
      if (context.codePage === 65001) return (chunk) => out.write(chunk);
      const decoder = new StringDecoder("utf8");
      return (chunk) => out.write(decoder.write(chunk));
    };
    child.stdout.on("data", relay(context.stdout));
    child.stderr.on("data", relay(context.stderr));
    child.stdin.on("error", () => undefined);
    context.stdin.pipe(child.stdin);
    child.on("error", (error) => {
      context.stderr.write(`${error.message}\r\n`);
      resolve(1);
    });
    child.on("close", (code, signal) => {
      context.signal.removeEventListener("abort", onAbort);
      context.stdin.unpipe(child.stdin);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

class ScriptExit {
  readonly code: number;
  constructor(code: number) {
    this.code = code;
  }
}

// Splits on newlines and on semicolons outside quotes.
function statements(script: string): string[] {
  const out: string[] = [];
  let current = "";
  let quote: string | undefined;
  for (const c of script) {
    if (quote) {
      current += c;
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
      current += c;
    } else if (c === ";" || c === "\n" || c === "\r") {
      out.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  out.push(current);
  return out.map((s) => s.trim()).filter((s) => s !== "" && !s.startsWith("#"));
}

const PS_VERSION = "5.1.20348.2849";

/** Runs the few PowerShell constructs the default handler understands (documented in README.md). */
async function runPowerShellBasics(context: WinRMCommandContext, script: string): Promise<number> {
  const variables = new Map<string, string>();
  let failed = false;
  // powershell.exe -Command ends with 1 when the last statement left $? false, e.g. a native command that exited non-zero.
  let lastFailed = false;
  const evaluate = (expr: string): string => {
    const e = expr.trim();
    if (e.startsWith("'") && e.endsWith("'") && e.length >= 2) return e.slice(1, -1).replace(/''/g, "'");
    if (e.startsWith('"') && e.endsWith('"') && e.length >= 2) {
      return e
        .slice(1, -1)
        .replace(/\$env:(\w+)/gi, (_m, name: string) => envValue(name))
        .replace(/\$(\w+)/g, (_m, name: string) => variables.get(name.toLowerCase()) ?? "")
        .replace(/`(.)/g, (_m, c: string) => ({ n: "\n", r: "\r", t: "\t", "0": "\0" })[c] ?? c);
    }
    if (/^-?\d+(\.\d+)?$/.test(e)) return e;
    const env = /^\$env:(\w+)$/i.exec(e);
    if (env?.[1]) return envValue(env[1]);
    if (/^\$PSVersionTable\.PSVersion(\.ToString\(\))?$/i.test(e)) return PS_VERSION;
    if (/^\$LASTEXITCODE$/i.test(e)) return variables.get("lastexitcode") ?? "0";
    const variable = /^\$(\w+)$/.exec(e);
    if (variable?.[1] && variables.has(variable[1].toLowerCase())) return variables.get(variable[1].toLowerCase()) ?? "";
    throw new Error(`The test server's PowerShell cannot evaluate '${e}'.`);
  };
  const envValue = (name: string): string => {
    if (name.toUpperCase() === "COMPUTERNAME") return context.machineName;
    const key = Object.keys(context.env).find((k) => k.toLowerCase() === name.toLowerCase());
    return key ? (context.env[key] ?? "") : "";
  };
  try {
    for (const statement of statements(script)) {
      if (context.signal.aborted) return 1;
      const [head = "", ...rest] = statement.split(/\s+/);
      const argument = statement.slice(head.length).trim();
      const verb = head.toLowerCase();
      const assignment = /^\$(\w+)\s*=\s*(.*)$/.exec(statement);
      const native = /^(?:cmd|cmd\.exe)\s+\/c\s+exit\s+(?:\/b\s+)?(-?\d+)$/i.exec(statement);
      lastFailed = false;
      if (native?.[1]) {
        const code = Number.parseInt(native[1], 10);
        variables.set("lastexitcode", String(code));
        lastFailed = code !== 0;
      } else if (verb === "throw") {
        throw new Error(argument === "" ? "ScriptHalted" : evaluate(argument));
      } else if (assignment?.[1]) {
        const value = assignment[2] ?? "";
        // Preference variables ($ProgressPreference = 'SilentlyContinue') are accepted and ignored.
        try {
          variables.set(assignment[1].toLowerCase(), evaluate(value));
        } catch {
          variables.set(assignment[1].toLowerCase(), value);
        }
      } else if (verb === "write-output" || verb === "echo" || verb === "write-host") {
        context.stdout.write(`${argument === "" ? "" : evaluate(argument)}\r\n`);
      } else if (verb === "write-error") {
        const message = evaluate(argument.replace(/^-Message\s+/i, ""));
        context.stderr.write(clixmlError(message));
        failed = true;
      } else if (verb === "exit") {
        throw new ScriptExit(argument === "" ? 0 : Number.parseInt(evaluate(argument), 10) || 0);
      } else if (verb === "start-sleep") {
        const ms = /-m(illiseconds)?\s+(\d+)/i.exec(argument);
        const seconds = /(?:-s(?:econds)?\s+)?(\d+(?:\.\d+)?)/i.exec(argument);
        await sleep(ms?.[2] ? Number(ms[2]) : Number(seconds?.[1] ?? 0) * 1000, context.signal);
        if (context.signal.aborted) return 1;
      } else if (verb === "hostname") {
        context.stdout.write(`${context.machineName}\r\n`);
      } else if (statement === "$input" || /^\[Console\]::In\.ReadToEnd\(\)$/i.test(statement)) {
        context.stdout.write(await readAll(context.stdin));
      } else if (rest.length === 0 && /^['"$\d-]/.test(statement)) {
        context.stdout.write(`${evaluate(statement)}\r\n`);
      } else {
        context.stderr.write(
          clixmlError(
            `${head} : The term '${head}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.`,
          ),
        );
        failed = true;
      }
    }
  } catch (error) {
    if (error instanceof ScriptExit) return error.code;
    context.stderr.write(clixmlError((error as Error).message));
    return 1;
  }
  return failed || lastFailed ? 1 : 0;
}

// The copy script's own messages (powershell.ts, copyScript).
const STDIN_ENDED = "opsconductor-copy: stdin ended before the end of the file";

/**
 * Models the copy script on the file bytes as powershell.exe reads them from
 * [Console]::OpenStandardInput(): frames of a little-endian uint32 length and that many bytes, a
 * zero length, the client's SHA-256. Like the script it writes `<dest>.opsconductor-partial`,
 * compares digests, then moves the file into place and prints `sha256:<hex>`; on a failure its
 * finally block removes the partial file, which Signal terminate (TerminateProcess) leaves behind.
 */
async function runCopy(context: WinRMCommandContext, script: string): Promise<number> {
  // The values PowerShell would assign: $d=[IO.Path]::GetFullPath(...FromBase64String('<base64>')...) and $w=$true or $false.
  const dest = /^\$d=.*FromBase64String\('([A-Za-z0-9+/=]*)'\)/m.exec(script)?.[1];
  const overwrite = /^\$w=\$true\s*$/im.test(script);
  const fail = (message: string): number => {
    context.stderr.write(clixmlError(message));
    return 1;
  };
  if (!dest) return fail("opsconductor-copy: the script has no $d=...FromBase64String('<base64 path>') line");
  const path = normalizeWindowsPath(Buffer.from(dest, "base64").toString("utf8"));
  const store = context.fileRoot === undefined ? memoryStore(context.files) : diskStore(context.fileRoot);
  const exists = async (): Promise<number | undefined> => {
    const kind = await store.kind(path);
    if (kind === "folder") return fail(`'${path}' is a folder`);
    if (kind === "file" && !overwrite) return fail(`The file '${path}' already exists and overwrite was not requested.`);
    return undefined;
  };
  const refused = await exists();
  if (refused !== undefined) return refused;
  const tmp = `${path}${COPY_PARTIAL_SUFFIX}`;
  const sink: FileSink = await store.create(tmp);
  const hash = createHash("sha256");
  const small = Buffer.alloc(32);
  let state: "header" | "data" | "digest" | "done" = "header";
  let need = 4;
  let have = 0;
  let left = 0;
  let ok = false;
  try {
    for await (const received of context.stdin) {
      if (context.signal.aborted) break;
      const chunk = received as Buffer;
      let at = 0;
      while (at < chunk.length && state !== "done") {
        if (state === "data") {
          const piece = chunk.subarray(at, at + Math.min(left, chunk.length - at));
          hash.update(piece);
          await sink.write(piece);
          at += piece.length;
          left -= piece.length;
          if (left === 0) [state, need, have] = ["header", 4, 0];
          continue;
        }
        const n = Math.min(need - have, chunk.length - at);
        chunk.copy(small, have, at, at + n);
        have += n;
        at += n;
        if (have < need) continue;
        if (state === "digest") {
          state = "done";
          continue;
        }
        const length = small.readInt32LE(0);
        if (length < 0) throw new Error("opsconductor-copy: malformed stdin");
        if (length === 0) [state, need, have] = ["digest", 32, 0];
        else [state, left] = ["data", length];
      }
    }
    // Terminated, the process dies where it is: no finally block runs and the partial file stays.
    if (context.signal.aborted && context.signal.reason === "terminate") {
      await sink.close();
      ok = true;
      return 1;
    }
    if (state !== "done") throw new Error(STDIN_ENDED);
    const mine = hash.digest("hex");
    const theirs = small.toString("hex");
    if (mine !== theirs) {
      throw new Error(`opsconductor-copy: SHA-256 mismatch: wrote ${mine}, the client sent ${theirs}`);
    }
    await sink.close();
    const late = await exists();
    if (late !== undefined) return late;
    await store.move(tmp, path);
    ok = true;
    context.stdout.write(`sha256:${mine}\r\n`);
    return 0;
  } catch (error) {
    return fail((error as Error).message);
  } finally {
    await sink.close();
    if (!ok) await store.remove(tmp);
  }
}

/** The default handler: copy scripts go to the VFS, other PowerShell to a tiny interpreter, cmd lines to /bin/sh. */
export const defaultCommandHandler: WinRMCommandHandler = async (context) => {
  if (context.shell === "powershell") {
    const script = context.script ?? "";
    const firstLine = script.replace(/^\uFEFF/, "").split(/\r?\n/, 1)[0]?.trim() ?? "";
    if (firstLine === COPY_MARKER) return runCopy(context, script);
    return runPowerShellBasics(context, script);
  }
  return runShell(context);
};
