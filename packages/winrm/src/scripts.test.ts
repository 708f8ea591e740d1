// Scripts of any length: runPowerShell sends the script through stdin behind a short bootstrap, and
// runCmd writes long cmd scripts to a temporary .cmd file; the exit-code rules stay those of
// -EncodedCommand. Against the in-process test server, over real sockets.
import { afterEach, describe, expect, it } from "vitest";
import { WinRMClient, WinRMError } from "./index.ts";
import { defaultCommandHandler, startWinRMTestServer } from "./testing/index.ts";
import type { WinRMCommandContext, WinRMTestServer, WinRMTestServerOptions } from "./testing/index.ts";

const USER = "alice";
const PASSWORD = "S3cret!";
// Longer than cmd.exe's 8191-character command line even before base64 and UTF-16 grow it.
const PADDING = `${"# padding\n".repeat(1000)}`;

let servers: WinRMTestServer[] = [];
let clients: WinRMClient[] = [];

afterEach(async () => {
  const [closing, stopping] = [clients, servers];
  [clients, servers] = [[], []];
  await Promise.all(closing.map((c) => c.close()));
  const leftOpen = stopping.map((s) => s.stats.openShells);
  await Promise.all(stopping.map((s) => s.close()));
  expect(leftOpen, "shells left open on the server").toEqual(stopping.map(() => 0));
});

async function start(options: WinRMTestServerOptions = {}): Promise<WinRMTestServer> {
  const server = await startWinRMTestServer({ users: { [USER]: PASSWORD }, ...options });
  servers.push(server);
  return server;
}

function connect(server: WinRMTestServer): WinRMClient {
  const client = new WinRMClient({ host: server.host, port: server.port, transport: "http", auth: "ntlm", username: USER, password: PASSWORD });
  clients.push(client);
  return client;
}

describe("PowerShell scripts through stdin", () => {
  it("runs a 1,000,000-character script with its output and exit code", async () => {
    const server = await start();
    const lines: string[] = [];
    let script = "";
    for (let i = 0; script.length < 1_000_000; i++) {
      const line = `Write-Output 'line ${i} ü ${"x".repeat(40)}'\n`;
      lines.push(`line ${i} ü ${"x".repeat(40)}\r\n`);
      script += line;
    }
    script += "exit 7";
    expect(script.length).toBeGreaterThanOrEqual(1_000_000);
    const result = await connect(server).runPowerShell(script);
    expect(result.exitCode).toBe(7);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(lines.join(""));
    // The script travelled in Sends, not on the command line.
    expect(server.stats.operations.send).toBeGreaterThan(1);
  });

  it("hands the handler the exact script as ctx.script, with the caller's stdin after it", async () => {
    const seen: { script: string | undefined; stdin: string; commandLine: string }[] = [];
    const server = await start({
      handler: async (ctx: WinRMCommandContext) => {
        let stdin = "";
        for await (const chunk of ctx.stdin) stdin += Buffer.from(chunk as Uint8Array).toString("utf8");
        seen.push({ script: ctx.script, stdin, commandLine: ctx.commandLine });
        return 0;
      },
    });
    const script = `${PADDING}'ü€𝄞'`;
    await connect(server).runPowerShell(script, { stdin: "caller data ü\nsecond line\n" });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.script).toBe(`$ProgressPreference='SilentlyContinue'\n${script}`);
    expect(seen[0]?.stdin).toBe("caller data ü\nsecond line\n");
    expect(seen[0]?.commandLine.length).toBeLessThan(1000);
  });

  it("lets the script read the caller's stdin", async () => {
    const server = await start();
    const result = await connect(server).runPowerShell(`${PADDING}[Console]::In.ReadToEnd()`, { stdin: "from the caller ü" });
    expect(result).toEqual({ stdout: "from the caller ü", stderr: "", exitCode: 0 });
  });

  it("keeps `exit N` as the exit code", async () => {
    const server = await start();
    const result = await connect(server).runPowerShell(`${PADDING}Write-Output 'before'\nexit 42\nWrite-Output 'after'`);
    expect(result).toEqual({ stdout: "before\r\n", stderr: "", exitCode: 42 });
  });

  it("ends with exit code 1 and a readable error on a terminating error", async () => {
    const server = await start();
    const result = await connect(server).runPowerShell(`${PADDING}Write-Output 'before'\nthrow 'it broke'\nWrite-Output 'after'`);
    expect(result).toEqual({ stdout: "before\r\n", stderr: "it broke\r\n", exitCode: 1 });
  });

  it("keeps a native command's $LASTEXITCODE when the script exits with it, and 1 when the failing native command ends the script", async () => {
    const server = await start();
    const client = connect(server);
    expect(await client.runPowerShell(`${PADDING}cmd /c exit 5\nexit $LASTEXITCODE`)).toMatchObject({ exitCode: 5 });
    expect(await client.runPowerShell(`${PADDING}cmd /c exit 5`)).toMatchObject({ exitCode: 1 });
    expect(await client.runPowerShell(`${PADDING}cmd /c exit 5\nWrite-Output 'recovered'`)).toEqual({ stdout: "recovered\r\n", stderr: "", exitCode: 0 });
  });

  it("ends with 0 after a clean run, and decodes CLIXML error records as before", async () => {
    const server = await start();
    const client = connect(server);
    expect(await client.runPowerShell(`${PADDING}Write-Output 'done'`)).toEqual({ stdout: "done\r\n", stderr: "", exitCode: 0 });
    expect(await client.runPowerShell(`${PADDING}Write-Error 'bad thing'`)).toEqual({ stdout: "", stderr: "bad thing\r\n", exitCode: 1 });
  });

  it("streams output while the script still runs", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const server = await start({
      handler: async (ctx) => {
        ctx.stdout.write("first\r\n");
        await released;
        ctx.stdout.write("second\r\n");
        return 3;
      },
    });
    const seen: string[] = [];
    const result = await connect(server).runPowerShell(PADDING, {
      onStdout: (text) => {
        seen.push(text);
        release();
      },
    });
    expect(seen.join("")).toBe("first\r\nsecond\r\n");
    expect(seen[0]).toBe("first\r\n");
    expect(result.exitCode).toBe(3);
  });

  it("runs long scripts in a shell kept open with openShell()", async () => {
    const server = await start();
    const shell = await connect(server).openShell();
    expect(await shell.runPowerShell(`${PADDING}Write-Output 'one'`)).toMatchObject({ stdout: "one\r\n", exitCode: 0 });
    expect(await shell.runPowerShell(`${PADDING}exit 9`)).toMatchObject({ exitCode: 9 });
    await shell.close();
    expect(server.stats.shellsCreated).toBe(1);
  });
});

describe("long cmd scripts", () => {
  it("runs a 20,000-character cmd script from a temporary file, with its output and exit code", async () => {
    const seen: string[] = [];
    const server = await start({
      handler: (ctx) => {
        // The bootstrap is PowerShell on the wire; the handler sees the cmd script itself.
        seen.push(`${ctx.shell}:${ctx.commandLine.length}:${ctx.command.length}`);
        return defaultCommandHandler(ctx);
      },
    });
    const word = "a".repeat(19_970);
    const script = `printf '%s\\n' ${word}; exit 3`;
    expect(script.length).toBeGreaterThanOrEqual(19_990);
    const result = await connect(server).runCmd(script);
    expect(result).toEqual({ stdout: `${word}\n`, stderr: "", exitCode: 3 });
    expect(seen).toEqual([`cmd:${script.length}:${script.length}`]);
  });

  it("leaves short cmd command lines on the command line", async () => {
    const lines: string[] = [];
    const server = await start({
      handler: (ctx) => {
        lines.push(ctx.commandLine);
        return 0;
      },
    });
    await connect(server).runCmd("echo", ["short"]);
    expect(lines).toEqual(["echo short"]);
    expect(server.stats.operations.send).toBe(0);
  });

  it("refuses stdin for a cmd script too long for the command line, before touching the server", async () => {
    const server = await start();
    const error = await connect(server)
      .runCmd(`echo ${"x".repeat(9000)}`, [], { stdin: "data" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMError);
    expect((error as Error).message).toMatch(/temporary \.cmd file and cannot also take stdin/);
    expect(server.stats.shellsCreated).toBe(0);
  });
});
