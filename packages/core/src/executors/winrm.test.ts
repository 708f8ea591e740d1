import { describe, expect, test } from "vitest";
import { parseJobDefinition } from "../definition.ts";
import { runJob, type Credential, type RunEvent, type Target } from "../engine.ts";
import { createWinRMExecutors, winrmConnectionOptions, type WinRMClientLike, type WinRMConnectionOptions, type WinRMRunOptions } from "./winrm.ts";

const target: Target = { id: "t-1", name: "web-01", hostname: "web-01.example.test", winrm: { transport: "http", auth: "ntlm", allowUnencrypted: false } };
const credential: Credential = { id: "c-1", name: "ops", type: "password", username: "ops", domain: "CORP", secret: { password: "Winter2026!" } };

// A stand-in for @opsconductor/winrm's client that records what it was asked to do.
class FakeClient implements WinRMClientLike {
  calls: unknown[] = [];
  closed = false;
  readonly options: WinRMConnectionOptions;
  private readonly behaviour: { exitCode?: number; hang?: boolean };
  constructor(options: WinRMConnectionOptions, behaviour: { exitCode?: number; hang?: boolean } = {}) {
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
  async copyFile(source: Buffer | string | NodeJS.ReadableStream, remotePath: string, options: { overwrite?: boolean } = {}) {
    this.calls.push({ method: "copyFile", source: Buffer.isBuffer(source) ? source.toString("hex") : source, remotePath, overwrite: options.overwrite });
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

async function runWith(steps: Record<string, unknown>[], behaviour: ConstructorParameters<typeof FakeClient>[1] = {}, extra: { signal?: AbortSignal; credential?: Credential | undefined } = {}) {
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
    const { clients } = await runWith([
      { type: "winrm.copy", content: "hello", destination: "C:\\reports\\{{ file }}", overwrite: true },
      { type: "winrm.copy", content: "AAEC", encoding: "base64", destination: "C:\\bin.dat" },
      { type: "winrm.copy", source: "/srv/files/tool.exe", destination: "C:\\tool.exe" },
    ]);
    expect(clients.map((client) => client.calls[0])).toEqual([
      { method: "copyFile", source: Buffer.from("hello").toString("hex"), remotePath: "C:\\reports\\report.txt", overwrite: true },
      { method: "copyFile", source: "000102", remotePath: "C:\\bin.dat", overwrite: false },
      { method: "copyFile", source: "/srv/files/tool.exe", remotePath: "C:\\tool.exe", overwrite: false },
    ]);
  });

  test("canceling the run aborts the remote command", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const { result, clients } = await runWith([{ type: "winrm.exec", command: "Start-Sleep 600" }], { hang: true }, { signal: controller.signal });
    expect(result.status).toBe("canceled");
    expect(clients[0]!.closed).toBe(true);
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
