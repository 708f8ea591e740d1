import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, test } from "vitest";
import { parseJobDefinition } from "../definition.ts";
import type { Credential, Target } from "../contracts.ts";
import { runJob, type RunEvent } from "../engine.ts";
import { createLocalFileOpener, createWinRMExecutors, winrmConnectionOptions, type OpenFile, type WinRMClientLike, type WinRMConnectionOptions, type WinRMRunOptions } from "./winrm.ts";

const target: Target = { id: "t-1", name: "web-01", hostname: "web-01.example.test", winrm: { transport: "http", auth: "ntlm", allowUnencrypted: false } };
const credential: Credential = { id: "c-1", name: "ops", type: "password", username: "ops", domain: "CORP", secret: { password: "Winter2026!" } };

interface Behaviour {
  exitCode?: number;
  hang?: boolean;
  /** What the "target" reports it received; defaults to the digest of the bytes sent. */
  remoteSha256?: string;
}

// A stand-in for @opsconductor/winrm's client that records what it was asked to do.
class FakeClient implements WinRMClientLike {
  calls: unknown[] = [];
  closed = false;
  readonly options: WinRMConnectionOptions;
  private readonly behaviour: Behaviour;
  constructor(options: WinRMConnectionOptions, behaviour: Behaviour = {}) {
    this.options = options;
    this.behaviour = behaviour;
  }
  async runPowerShell(script: string, options: WinRMRunOptions = {}) {
    this.calls.push({ method: "runPowerShell", script, timeoutSec: options.timeoutSec });
    return this.produce(options);
  }
  async runCmd(command: string, args: readonly string[] = [], options: WinRMRunOptions = {}) {
    this.calls.push({ method: "runCmd", command, args });
    return this.produce(options);
  }
  async copyFile(source: Buffer | Readable, remotePath: string, options: { overwrite?: boolean } = {}) {
    let bytes: Buffer;
    if (Buffer.isBuffer(source)) bytes = source;
    else {
      const parts: Buffer[] = [];
      for await (const chunk of source) parts.push(Buffer.from(chunk as Uint8Array));
      bytes = Buffer.concat(parts);
    }
    this.calls.push({ method: "copyFile", source: Buffer.isBuffer(source) ? bytes.toString("hex") : `stream:${bytes.toString("utf8")}`, remotePath, overwrite: options.overwrite });
    return { sha256: this.behaviour.remoteSha256 ?? createHash("sha256").update(bytes).digest("hex") };
  }
  close() {
    this.closed = true;
  }
  private produce(options: WinRMRunOptions): Promise<{ exitCode: number }> {
    options.onStdout?.("Running\n");
    options.onStderr?.(`warning for ${this.options.username}\n`);
    if (!this.behaviour.hang) return Promise.resolve({ exitCode: this.behaviour.exitCode ?? 0 });
    return new Promise((_, reject) => options.signal?.addEventListener("abort", () => reject(new Error("terminated")), { once: true }));
  }
}

async function runWith(steps: Record<string, unknown>[], behaviour: Behaviour = {}, extra: { signal?: AbortSignal; credential?: Credential | undefined; openFile?: OpenFile } = {}) {
  const clients: FakeClient[] = [];
  const events: RunEvent[] = [];
  const result = await runJob({
    definition: parseJobDefinition({
      name: "WinRM",
      parameters: { svc: "Print Spooler", file: "report.txt" },
      steps: steps.map((step) => ({ target: "web-01", ...step })),
    }),
    resolveTarget: () => target,
    resolveCredential: () => ("credential" in extra ? extra.credential : credential),
    executors: createWinRMExecutors({
      createClient: (options) => {
        const client = new FakeClient(options, behaviour);
        clients.push(client);
        return client;
      },
      ...(extra.openFile ? { openFile: extra.openFile } : {}),
    }),
    signal: extra.signal,
    onEvent: (event) => events.push(event),
  });
  return { result, events, clients };
}

describe("winrm executors", () => {
  test("winrm.exec runs the interpolated PowerShell and streams its output", async () => {
    const { result, events, clients } = await runWith([{ type: "winrm.exec", command: "Restart-Service {{ svc }}", timeoutSec: 30 }]);
    expect(clients).toHaveLength(1);
    expect(clients[0]!.calls).toEqual([{ method: "runPowerShell", script: "Restart-Service 'Print Spooler'", timeoutSec: 30 }]);
    expect(clients[0]!.closed).toBe(true);
    const output = events.flatMap((event) => (event.type === "step.output" ? [[event.stream, event.text]] : []));
    expect(output).toEqual([
      ["stdout", "Running\n"],
      ["stderr", "warning for ops\n"],
    ]);
    expect(result.steps[0]).toMatchObject({ status: "succeeded", exitCode: 0 });
  });

  test("winrm.exec with shell cmd quotes for cmd.exe", async () => {
    const { clients } = await runWith([{ type: "winrm.exec", shell: "cmd", command: "sc.exe query {{ svc }}" }]);
    expect(clients[0]!.calls).toEqual([{ method: "runCmd", command: 'sc.exe query "Print Spooler"', args: [] }]);
  });

  test("a non-zero exit code fails the step and the client is still closed", async () => {
    const { result, clients } = await runWith([{ type: "winrm.exec", command: "exit 5" }], { exitCode: 5 });
    expect(result.steps[0]).toMatchObject({ status: "failed", exitCode: 5, error: "The command exited with code 5." });
    expect(clients[0]!.closed).toBe(true);
  });

  test("winrm.copy sends text or base64 content to the interpolated destination", async () => {
    const { clients, result } = await runWith([
      { type: "winrm.copy", content: "hello", destination: "C:\\reports\\{{ file }}", overwrite: true },
      { type: "winrm.copy", content: "AAEC", encoding: "base64", destination: "C:\\bin.dat" },
    ]);
    expect(clients).toHaveLength(1);
    expect(clients[0]!.calls).toEqual([
      { method: "copyFile", source: Buffer.from("hello").toString("hex"), remotePath: "C:\\reports\\report.txt", overwrite: true },
      { method: "copyFile", source: "000102", remotePath: "C:\\bin.dat", overwrite: false },
    ]);
    expect(result.status).toBe("succeeded");
  });

  test("winrm.copy with file streams what openFile returns and checks the target's digest against the pinned one", async () => {
    const sha256 = createHash("sha256").update("tool bytes").digest("hex");
    const opened: { ref: string; sha256: string | undefined }[] = [];
    const openFile: OpenFile = async (ref, context) => {
      opened.push({ ref, sha256: context.sha256 });
      return { stream: Readable.from([Buffer.from("tool "), Buffer.from("bytes")]), name: "tool.exe", size: 10, sha256 };
    };
    const { clients, events, result } = await runWith([{ type: "winrm.copy", file: "tool.exe", sha256, destination: "C:\\tool.exe" }], {}, { openFile });
    expect(opened).toEqual([{ ref: "tool.exe", sha256 }]);
    expect(clients[0]!.calls).toEqual([{ method: "copyFile", source: "stream:tool bytes", remotePath: "C:\\tool.exe", overwrite: false }]);
    expect(result.status).toBe("succeeded");
    const stdout = events.flatMap((e) => (e.type === "step.output" ? [e.text] : [])).join("");
    expect(stdout).toBe(`Copied tool.exe (10 bytes) to C:\\tool.exe (SHA-256 ${sha256})\n`);

    const corrupt = await runWith([{ type: "winrm.copy", file: "tool.exe", destination: "C:\\tool.exe" }], { remoteSha256: "0".repeat(64) }, { openFile });
    expect(corrupt.result.steps[0]).toMatchObject({ status: "failed", error: `The copy of C:\\tool.exe has SHA-256 ${"0".repeat(64)}, expected ${sha256}.` });
  });

  test("winrm.copy with file fails when no file source is configured, and when the file changed since the step was saved", async () => {
    const missing = await runWith([{ type: "winrm.copy", file: "tool.exe", destination: "C:\\tool.exe" }]);
    expect(missing.result.steps[0]!.error).toMatch(/copies file "tool\.exe", but no file source \(openFile\) is configured/);
    expect(missing.clients).toEqual([]);

    const changed = await runWith([{ type: "winrm.copy", file: "tool.exe", sha256: "a".repeat(64), destination: "C:\\tool.exe" }], {}, {
      openFile: async () => ({ stream: Readable.from([Buffer.from("new")]), sha256: "b".repeat(64) }),
    });
    expect(changed.result.steps[0]!.error).toBe(`File "tool.exe" has SHA-256 ${"b".repeat(64)}, but the step was saved with ${"a".repeat(64)}.`);
  });

  test("canceling the run aborts the remote command", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const { result, clients } = await runWith([{ type: "winrm.exec", command: "Start-Sleep 600" }], { hang: true }, { signal: controller.signal });
    expect(result.status).toBe("canceled");
    expect(clients[0]!.closed).toBe(true);
  });

  test("a run's steps on one target share one connection and one shell, closed when the run ends", async () => {
    const log: string[] = [];
    class ShellClient extends FakeClient {
      async openShell() {
        log.push("openShell");
        return {
          runPowerShell: async (script: string) => (log.push(`ps ${script}`), { exitCode: 0 }),
          runCmd: async (command: string) => (log.push(`cmd ${command}`), { exitCode: 0 }),
          close: async () => void log.push("shell.close"),
        };
      }
      override close() {
        log.push("client.close");
        super.close();
      }
    }
    const other: Target = { id: "t-2", name: "web-02", hostname: "web-02.example.test", winrm: target.winrm };
    const created: WinRMConnectionOptions[] = [];
    const result = await runJob({
      definition: parseJobDefinition({
        name: "Five steps",
        steps: [
          { type: "winrm.exec", target: "web-01", command: "one" },
          { type: "winrm.exec", target: "web-01", shell: "cmd", command: "two" },
          { type: "winrm.copy", target: "web-01", content: "x", destination: "C:\\x.txt" },
          { type: "winrm.exec", target: "web-02", command: "three" },
          { type: "winrm.exec", target: "web-01", command: "four" },
        ],
      }),
      resolveTarget: (ref) => (ref === "web-02" ? other : target),
      resolveCredential: () => credential,
      executors: createWinRMExecutors({ createClient: (options) => (created.push(options), new ShellClient(options)) }),
    });
    expect(result.status).toBe("succeeded");
    expect(created.map((options) => options.host)).toEqual(["web-01.example.test", "web-02.example.test"]);
    expect(log).toEqual(["openShell", "ps one", "cmd two", "openShell", "ps three", "ps four", "shell.close", "client.close", "shell.close", "client.close"]);
  });

  test("a failed connection is forgotten, so the next step on that target connects again", async () => {
    let attempts = 0;
    const result = await runJob({
      definition: parseJobDefinition({
        name: "Retry connect",
        steps: [
          { type: "winrm.exec", target: "web-01", command: "one", continueOnError: true },
          { type: "winrm.exec", target: "web-01", command: "two" },
        ],
      }),
      resolveTarget: () => target,
      resolveCredential: () => credential,
      executors: createWinRMExecutors({
        createClient: (options) => {
          attempts++;
          if (attempts === 1) throw new Error("connect ECONNREFUSED");
          return new FakeClient(options);
        },
      }),
    });
    expect(result.steps.map((step) => step.status)).toEqual(["failed", "succeeded"]);
    expect(attempts).toBe(2);
  });

  test("a target without a credential fails with a clear message", async () => {
    const { result, clients } = await runWith([{ type: "winrm.exec", command: "hostname" }], {}, { credential: undefined });
    expect(result.steps[0]!.error).toBe('Target "web-01" has no credential to log in with.');
    expect(clients).toEqual([]);
  });

  test("the credential's password never shows in events", async () => {
    const { events } = await runWith([{ type: "winrm.exec", command: "hostname" }], {}, { credential: { ...credential, username: "Winter2026!" } });
    expect(JSON.stringify(events)).not.toContain("Winter2026!");
  });
});

describe("createLocalFileOpener (the embedder's explicit opt-in to local files)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "core-local-files-"));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, "root");
  await mkdir(join(root, "sub"), { recursive: true });
  await writeFile(join(root, "sub", "tool.exe"), "tool bytes");
  await writeFile(join(dir, "secret.txt"), "outside");
  await symlink(join(dir, "secret.txt"), join(root, "link.txt"));
  const openFile = createLocalFileOpener({ root });

  test("reads files under the root", async () => {
    const { clients, result } = await runWith([{ type: "winrm.copy", file: "sub/tool.exe", destination: "C:\\tool.exe" }], {}, { openFile });
    expect(result.status).toBe("succeeded");
    expect(clients[0]!.calls[0]).toMatchObject({ source: "stream:tool bytes" });
  });

  test.each(["../secret.txt", "link.txt", "/etc/passwd", "/proc/self/environ", "sub/../../secret.txt", "missing.txt", "sub"])("refuses %s", async (ref) => {
    const { clients, result } = await runWith([{ type: "winrm.copy", file: ref, destination: "C:\\x" }], {}, { openFile });
    expect(result.steps[0]!.error).toMatch(/outside the copy root|was not found under the copy root|is not a regular file/);
    expect(clients).toEqual([]);
  });

  test("needs an absolute root", () => {
    expect(() => createLocalFileOpener({ root: "files" })).toThrow("createLocalFileOpener() needs { root: <absolute directory> }");
  });
});

test("createWinRMExecutors explains what it needs", () => {
  expect(() => createWinRMExecutors({} as never)).toThrow("createWinRMExecutors() needs a createClient function");
});

describe("winrmConnectionOptions", () => {
  test("maps a target and credential, defaulting to https on 5986", () => {
    expect(winrmConnectionOptions({ id: "t", name: "t", hostname: "h" }, credential)).toEqual({
      host: "h",
      port: 5986,
      transport: "https",
      auth: "ntlm",
      username: "ops",
      password: "Winter2026!",
      domain: "CORP",
    });
    expect(winrmConnectionOptions({ ...target, winrm: { ...target.winrm, caCertificate: "PEM", operationTimeoutSec: 20 } }, credential)).toMatchObject({
      port: 5985,
      transport: "http",
      ca: "PEM",
      allowUnencrypted: false,
      operationTimeoutSec: 20,
    });
  });
});
