// Drives the test server with pywinrm (Debian's python3-winrm, Ansible's WinRM transport), so the
// server is checked by a client we did not write: NTLM with message encryption over HTTP, Basic
// over HTTPS, NTLM over HTTPS with channel binding. The client is pywinrm_client.py beside this file,
// started through pywinrm.ts.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startWinRMTestServer } from "../src/testing/index.ts";
import type { WinRMTestServer, WinRMTestServerOptions } from "../src/testing/index.ts";
import { PYWINRM_CLIENT, findPython, pywinrmEnv, run } from "./pywinrm.ts";

interface CommandResult {
  std_out: string;
  std_err: string;
  status_code: number;
}
type StepResult = CommandResult | { commands: CommandResult[] } | { error: string };
type Step = { op: "run_cmd"; command: string; args?: string[] } | { op: "run_ps"; script: string } | { op: "shell"; commands: { command: string; args?: string[] }[] };

// Looked up by the first test that needs it, so that without pywinrm each of them fails with the reason.
let python: Promise<string> | undefined;
let dir: string;
let env: NodeJS.ProcessEnv;
let server: WinRMTestServer | undefined;

/** Runs the steps in one pywinrm Session (one python3 process) and returns one result per step. */
async function pywinrm(session: Record<string, unknown>, steps: Step[]): Promise<StepResult[]> {
  python ??= findPython();
  const { code, stdout, stderr } = await run(await python, [PYWINRM_CLIENT], JSON.stringify({ session, steps }), env);
  if (code !== 0) throw new Error(`pywinrm_client.py exited ${code}:\n${stderr}`);
  return (JSON.parse(stdout) as { results: StepResult[] }).results;
}

async function start(options: WinRMTestServerOptions): Promise<WinRMTestServer> {
  server = await startWinRMTestServer({ users: { vagrant: "vagrant" }, ...options });
  return server;
}

// A long script (pywinrm puts it on the command line as `powershell -encodedcommand`, so it must
// stay under cmd.exe's 8191 characters) with longer output, which needs many 1 KiB Receives.
const FILLER = "0123456789abcdef".repeat(4);
const LONG_LINES = Array.from({ length: 80 }, (_, i) => `line ${String(i + 1).padStart(3, "0")}: ${FILLER.repeat(4)}`);
const LONG_SCRIPT = [`$s = '${FILLER}'`, ...LONG_LINES.map((_, i) => `Write-Output "line ${String(i + 1).padStart(3, "0")}: $s$s$s$s"`)].join("\r\n");
const encodedLength = (script: string): number => "powershell -encodedcommand ".length + Buffer.from(script, "utf16le").toString("base64").length;

const STEPS: Step[] = [
  { op: "run_cmd", command: "echo", args: ["pywinrm", "interop"] },
  { op: "run_ps", script: LONG_SCRIPT },
  { op: "run_ps", script: "Write-Output 'before the error'\r\nWrite-Error 'pywinrm saw this error'\r\nexit 3" },
  { op: "run_cmd", command: "echo to stderr 1>&2 && exit 5" },
  {
    op: "shell",
    commands: [
      { command: "echo", args: ["first"] },
      { command: `powershell -encodedcommand ${Buffer.from("Write-Output $env:COMPUTERNAME\r\nexit 7", "utf16le").toString("base64")}` },
      { command: "echo third 1>&2 && exit 2" },
    ],
  },
];

/** Checks every result of STEPS and what the server counted for them. */
function expectSteps(results: StepResult[], stats: WinRMTestServer["stats"]): void {
  expect(results).toEqual([
    { std_out: "pywinrm interop\n", std_err: "", status_code: 0 },
    { std_out: LONG_LINES.map((line) => `${line}\r\n`).join(""), std_err: "", status_code: 0 },
    // run_ps cleans the CLIXML error record into its message.
    { std_out: "before the error\r\n", std_err: "pywinrm saw this error", status_code: 3 },
    { std_out: "", std_err: "to stderr\n", status_code: 5 },
    {
      commands: [
        { std_out: "first\n", std_err: "", status_code: 0 },
        { std_out: "WINRM-TEST\r\n", std_err: "", status_code: 7 },
        { std_out: "", std_err: "third\n", status_code: 2 },
      ],
    },
  ]);
  // run_cmd and run_ps open a shell each; the shell step opens one for its three commands.
  expect(stats.shellsCreated).toBe(5);
  expect(stats.commandsStarted).toBe(7);
  expect(stats.openShells).toBe(0);
  expect(stats.operations.delete).toBe(5);
  // The long script's 21,360 bytes of output alone take at least 21 Receives of 1 KiB; the other six commands one each.
  expect(stats.operations.receive).toBeGreaterThanOrEqual(21 + 6);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "winrm-pywinrm-"));
  env = await pywinrmEnv(dir);
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("pywinrm against the test server", () => {
  it("the long script fits pywinrm's command line", () => {
    expect(LONG_SCRIPT.length).toBeGreaterThan(2_800);
    expect(LONG_LINES.join("\r\n").length).toBeGreaterThan(20_000);
    expect(encodedLength(LONG_SCRIPT)).toBeLessThan(8191);
  });

  it("NTLM with message encryption over HTTP", async () => {
    const s = await start({ auth: "ntlm", receiveChunkSize: 1024 });
    const session = { target: s.url, auth: ["vagrant", "vagrant"], transport: "ntlm", message_encryption: "always" };
    expectSteps(await pywinrm(session, STEPS), s.stats);
    expect(s.stats.authHandshakes).toBeGreaterThanOrEqual(1);

    // The server refuses unencrypted NTLM bodies over HTTP, as Windows does: the run above was encrypted.
    const handshakes = s.stats.authHandshakes;
    const [plain] = await pywinrm({ ...session, message_encryption: "never" }, [STEPS[0] as Step]);
    expect(s.stats.authHandshakes).toBe(handshakes + 1);
    expect(s.stats.shellsCreated).toBe(5);
    expect(plain).toMatchObject({ error: expect.stringMatching(/^InvalidCredentialsError/) });
  });

  it("Basic over HTTPS, validating the server's certificate", async () => {
    const s = await start({ auth: "basic", https: true, receiveChunkSize: 1024 });
    const caFile = join(dir, "ca.pem");
    await writeFile(caFile, s.ca ?? "");
    const session = { target: s.url, auth: ["vagrant", "vagrant"], transport: "basic", server_cert_validation: "validate", ca_trust_path: caFile };
    expectSteps(await pywinrm(session, STEPS), s.stats);
    expect(s.stats.authHandshakes).toBe(0);

    const failures = s.stats.authFailures;
    const [wrong] = await pywinrm({ ...session, auth: ["vagrant", "wrong"] }, [STEPS[0] as Step]);
    expect(s.stats.authFailures).toBe(failures + 1);
    expect(s.stats.shellsCreated).toBe(5);
    expect(wrong).toMatchObject({ error: expect.stringMatching(/^InvalidCredentialsError/) });
  });

  it("NTLM over HTTPS with channel binding (the server insists on it)", async () => {
    const s = await start({ auth: "ntlm", https: true, strictChannelBinding: true, receiveChunkSize: 1024 });
    const session = { target: s.url, auth: ["vagrant", "vagrant"], transport: "ntlm", server_cert_validation: "ignore" };
    expectSteps(await pywinrm(session, STEPS), s.stats);
    expect(s.stats.authHandshakes).toBeGreaterThanOrEqual(1);

    // Without the channel binding token the handshake completes and is refused.
    const handshakes = s.stats.authHandshakes;
    const [unbound] = await pywinrm({ ...session, send_cbt: false }, [STEPS[0] as Step]);
    expect(s.stats.authHandshakes).toBe(handshakes + 1);
    expect(s.stats.shellsCreated).toBe(5);
    expect(unbound).toMatchObject({ error: expect.stringMatching(/^InvalidCredentialsError/) });
  });
});
