// Drives the test server over real sockets with hand-built WS-Management requests (not the client),
// so the server's wire behaviour is pinned independently of the client.
import { createHash, randomUUID } from "node:crypto";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { COPY_PARTIAL_SUFFIX, startWinRMTestServer } from "./index.ts";
import type { WinRMCommandHandler, WinRMTestServer, WinRMTestServerOptions } from "./index.ts";

const RESOURCE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd";
const SHELL_NS = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell";
const A = {
  create: "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create",
  delete: "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete",
  command: `${SHELL_NS}/Command`,
  send: `${SHELL_NS}/Send`,
  receive: `${SHELL_NS}/Receive`,
  signal: `${SHELL_NS}/Signal`,
};

interface Wire {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

interface EnvelopeOptions {
  shellId?: string;
  messageId?: string;
  timeoutSec?: number;
  maxEnvelopeSize?: number;
  options?: Record<string, string>;
}

function envelope(action: string, body: string, opts: EnvelopeOptions = {}): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" ` +
    `xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:shell="${SHELL_NS}">` +
    `<env:Header><wsa:To>http://localhost/wsman</wsa:To><wsman:ResourceURI env:mustUnderstand="true">${RESOURCE}</wsman:ResourceURI>` +
    `<wsa:ReplyTo><wsa:Address env:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:Address></wsa:ReplyTo>` +
    `<wsa:Action env:mustUnderstand="true">${action}</wsa:Action><wsman:MaxEnvelopeSize env:mustUnderstand="true">${opts.maxEnvelopeSize ?? 153600}</wsman:MaxEnvelopeSize>` +
    `<wsa:MessageID>${opts.messageId ?? `uuid:${randomUUID()}`}</wsa:MessageID>` +
    `<wsman:OperationTimeout>PT${opts.timeoutSec ?? 20}S</wsman:OperationTimeout>` +
    (opts.options
      ? `<wsman:OptionSet>${Object.entries(opts.options)
          .map(([name, value]) => `<wsman:Option Name="${name}">${value}</wsman:Option>`)
          .join("")}</wsman:OptionSet>`
      : "") +
    (opts.shellId ? `<wsman:SelectorSet><wsman:Selector Name="ShellId">${opts.shellId}</wsman:Selector></wsman:SelectorSet>` : "") +
    `</env:Header><env:Body>${body}</env:Body></env:Envelope>`
  );
}

function request(url: string, body: string | Buffer, headers: Record<string, string>, extra: { agent?: http.Agent; ca?: string } = {}): Promise<Wire> {
  const target = new URL(url);
  const payload = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  const lib = target.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        agent: extra.agent,
        ...(extra.ca ? { ca: extra.ca } : {}),
        headers: { "Content-Type": "application/soap+xml;charset=UTF-8", "Content-Length": String(payload.length), ...headers },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (p: Buffer) => parts.push(p));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

const xmlText = (text: string) => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

const basic = (user: string, password: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` });

/** A tiny raw WinRM caller over Basic, used to drive shell operations. */
function basicCaller(server: WinRMTestServer, user = "alice", password = "S3cret!") {
  const call = async (action: string, body: string, opts: Omit<EnvelopeOptions, "messageId"> = {}) => {
    const messageId = `uuid:${randomUUID()}`;
    const wire = await request(server.url, envelope(action, body, { ...opts, messageId }), basic(user, password), server.ca ? { ca: server.ca } : {});
    return { ...wire, text: wire.body.toString("utf8"), messageId };
  };
  // Like our client (and unlike Windows' default), the shell asks for UTF-8 unless told otherwise.
  const createShell = async (options: Record<string, string> = { WINRS_CODEPAGE: "65001" }): Promise<string> => {
    const res = await call(
      A.create,
      `<shell:Shell><shell:InputStreams>stdin</shell:InputStreams><shell:OutputStreams>stdout stderr</shell:OutputStreams><shell:Environment><shell:Variable Name="GREETING">hej</shell:Variable></shell:Environment></shell:Shell>`,
      { options },
    );
    expect(res.status).toBe(200);
    const id = /<w:Selector Name="ShellId">([^<]+)<\/w:Selector>/.exec(res.text)?.[1];
    expect(id).toBeDefined();
    return id as string;
  };
  const run = async (shellId: string, command: string, args: string[] = []): Promise<string> => {
    const res = await call(A.command, `<shell:CommandLine><shell:Command>${command}</shell:Command>${args.map((a) => `<shell:Arguments>${xmlText(a)}</shell:Arguments>`).join("")}</shell:CommandLine>`, { shellId });
    expect(res.status, res.text).toBe(200);
    return /<rsp:CommandId>([^<]+)<\/rsp:CommandId>/.exec(res.text)?.[1] as string;
  };
  const receive = (shellId: string, commandId: string, timeoutSec = 20, maxEnvelopeSize?: number) =>
    call(A.receive, `<shell:Receive><shell:DesiredStream CommandId="${commandId}">stdout stderr</shell:DesiredStream></shell:Receive>`, {
      shellId,
      timeoutSec,
      ...(maxEnvelopeSize ? { maxEnvelopeSize } : {}),
    });
  const receiveAll = async (shellId: string, commandId: string, maxEnvelopeSize?: number) => {
    let stdout = "";
    let stderr = "";
    let responses = 0;
    let largest = 0;
    const bytes: Buffer[] = [];
    for (;;) {
      const res = await receive(shellId, commandId, 20, maxEnvelopeSize);
      largest = Math.max(largest, res.body.length);
      expect(res.status).toBe(200);
      responses++;
      for (const m of res.text.matchAll(/<rsp:Stream Name="(stdout|stderr)" CommandId="([^"]+)"(?: End="true")?>([^<]*)<\/rsp:Stream>/g)) {
        expect(m[2]).toBe(commandId);
        const data = Buffer.from(m[3] ?? "", "base64");
        const text = data.toString("utf8");
        if (m[1] === "stdout") bytes.push(data);
        if (m[1] === "stdout") stdout += text;
        else stderr += text;
      }
      const exit = /CommandState\/Done"><rsp:ExitCode>(-?\d+)<\/rsp:ExitCode>/.exec(res.text);
      if (exit) {
        expect(res.text).toContain(`<rsp:Stream Name="stdout" CommandId="${commandId}" End="true">`);
        return { stdout, stderr, exitCode: Number(exit[1]), responses, largest, stdoutBytes: Buffer.concat(bytes) };
      }
      expect(res.text).toContain("CommandState/Running");
    }
  };
  const sendStdin = (shellId: string, commandId: string, data: Buffer, end: boolean) =>
    call(A.send, `<shell:Send><shell:Stream Name="stdin" CommandId="${commandId}"${end ? ' End="true"' : ""}>${data.toString("base64")}</shell:Stream></shell:Send>`, { shellId });
  const signal = (shellId: string, commandId: string, code = "terminate") =>
    call(A.signal, `<shell:Signal CommandId="${commandId}"><shell:Code>${SHELL_NS}/signal/${code}</shell:Code></shell:Signal>`, { shellId });
  const remove = (shellId: string) => call(A.delete, "", { shellId });
  return { call, createShell, run, receive, receiveAll, sendStdin, signal, remove };
}

function fault(text: string): { code: number; subcode: string; message: string } {
  return {
    code: Number(/<f:WSManFault [^>]*Code="(\d+)"/.exec(text)?.[1]),
    subcode: /<s:Subcode><s:Value>([^<]+)<\/s:Value>/.exec(text)?.[1] ?? "",
    message: /<f:Message>([^<]*)<\/f:Message>/.exec(text)?.[1] ?? "",
  };
}

const powershell = (script: string): string => `powershell -NoProfile -NonInteractive -EncodedCommand ${Buffer.from(script, "utf16le").toString("base64")}`;

/** A copy script as the server recognises it: its first line and its $d and $w assignments; the rest runs on Windows. */
const copyScript = (path: string, overwrite: boolean): string =>
  [
    "# opsconductor-copy v2",
    "$ErrorActionPreference='Stop'",
    `$d=[IO.Path]::GetFullPath([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('${Buffer.from(path).toString("base64")}')))`,
    `$w=$${overwrite}`,
    "# the real script reads [Console]::OpenStandardInput()",
  ].join("\n");

/** One frame of the copy stream: a little-endian uint32 length, then the bytes. */
const frame = (bytes: Buffer): Buffer => Buffer.concat([Buffer.from(Uint32Array.of(bytes.length).buffer), bytes]);

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; !condition(); i++) {
    if (i > 200) throw new Error("condition not met within 2 s");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

let servers: WinRMTestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});
async function start(options: WinRMTestServerOptions = {}): Promise<WinRMTestServer> {
  const server = await startWinRMTestServer({ users: { alice: "S3cret!" }, allowUnencrypted: true, ...options });
  servers.push(server);
  return server;
}

describe("authentication", () => {
  it("answers an unauthenticated Identify like Windows, and the full version once authenticated", async () => {
    const server = await start();
    const identify = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>`;
    const anonymous = await request(server.url, identify, { WSMANIDENTIFY: "unauthenticated" });
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.toString()).toContain("<wsmid:ProductVendor>Microsoft Corporation</wsmid:ProductVendor>");
    expect(anonymous.body.toString()).toContain("<wsmid:ProductVersion>OS: 0.0.0 SP: 0.0 Stack: 3.0</wsmid:ProductVersion>");
    const authenticated = await request(server.url, identify, basic("alice", "S3cret!"));
    expect(authenticated.body.toString()).toMatch(/<wsmid:ProductVersion>OS: 10\.0\.\d+ SP: 0\.0 Stack: 3\.0<\/wsmid:ProductVersion>/);
    expect(authenticated.body.toString()).toContain("<wsmid:ProtocolVersion>http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd</wsmid:ProtocolVersion>");
    expect(server.stats.operations.identify).toBe(2);
  });

  it("refuses Basic over plain HTTP unless allowUnencrypted is set, and does not offer it", async () => {
    const server = await start({ allowUnencrypted: false });
    const res = await basicCaller(server).call(A.create, "<shell:Shell/>");
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toBe("Negotiate");
    expect(res.headers["x-winrm-test-server-reason"]).toMatch(/AllowUnencrypted=false/);
    expect(server.stats.openShells).toBe(0);
  });

  it("answers 401 for a wrong password or an unknown user, and accepts DOMAIN\\user and user@domain", async () => {
    const server = await start();
    expect((await basicCaller(server, "alice", "wrong").call(A.create, "<shell:Shell/>")).status).toBe(401);
    expect((await basicCaller(server, "mallory", "S3cret!").call(A.create, "<shell:Shell/>")).status).toBe(401);
    expect(server.stats.authFailures).toBe(2);
    await basicCaller(server, "CONTOSO\\alice").createShell();
    await basicCaller(server, "alice@contoso.local").createShell();
    expect(server.stats.openShells).toBe(2);
  });

  it("answers the AccessDenied fault for a user who authenticates but may not use WinRM", async () => {
    const server = await start({ users: { alice: "S3cret!", bob: "pw" }, deniedUsers: ["bob"] });
    const res = await basicCaller(server, "bob", "pw").call(A.create, "<shell:Shell/>");
    expect(res.status).toBe(500);
    expect(fault(res.text)).toMatchObject({ code: 5, subcode: "w:AccessDenied", message: "Access is denied. " });
  });

  it("serves HTTPS with a generated certificate the client can trust through ca", async () => {
    const server = await start({ https: true, allowUnencrypted: false });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/wsman$/);
    expect(server.ca).toContain("BEGIN CERTIFICATE");
    const caller = basicCaller(server);
    const shellId = await caller.createShell();
    const result = await caller.receiveAll(shellId, await caller.run(shellId, "echo", ["over-tls"]));
    expect(result).toMatchObject({ stdout: "over-tls\n", exitCode: 0 });
    await expect(request(server.url, "", basic("alice", "S3cret!"))).rejects.toThrow(/self-signed|certificate/i);
  });
});

describe("shell operations", () => {
  it("runs a command whose output is split over several Receive responses, each reply related to its request", async () => {
    const server = await start({ receiveChunkSize: 8 });
    const caller = basicCaller(server);
    const shellId = await caller.createShell();
    const create = await caller.call(A.create, "<shell:Shell/>");
    expect(create.text).toContain(`<a:RelatesTo>${create.messageId}</a:RelatesTo>`);
    const commandId = await caller.run(shellId, "printf", ["'%s' 'the quick brown fox jumps over the lazy dog'; echo oops >&2; exit 3"]);
    const result = await caller.receiveAll(shellId, commandId);
    expect(result.stdout).toBe("the quick brown fox jumps over the lazy dog");
    expect(result.stderr).toBe("oops\n");
    expect(result.exitCode).toBe(3);
    expect(result.responses).toBeGreaterThanOrEqual(6);
    expect(server.stats.operations.receive).toBe(result.responses);
  });

  it("gives every reply a fresh MessageID and RelatesTo the request's MessageID", async () => {
    const server = await start();
    const caller = basicCaller(server);
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const res = await caller.call(A.create, "<shell:Shell/>");
      expect(res.text).toContain(`<a:RelatesTo>${res.messageId}</a:RelatesTo>`);
      ids.add(/<a:MessageID>([^<]+)<\/a:MessageID>/.exec(res.text)?.[1] ?? "");
    }
    expect(ids.size).toBe(3);
  });

  it("passes stdin sent with Send to the command, ending it at End=true", async () => {
    const server = await start();
    const caller = basicCaller(server);
    const shellId = await caller.createShell();
    const commandId = await caller.run(shellId, "cat");
    expect((await caller.sendStdin(shellId, commandId, Buffer.from("first line\n"), false)).status).toBe(200);
    expect((await caller.sendStdin(shellId, commandId, Buffer.from("second ünïcode line\n"), true)).status).toBe(200);
    expect(await caller.receiveAll(shellId, commandId)).toMatchObject({ stdout: "first line\nsecond ünïcode line\n", exitCode: 0 });
  });

  it("answers the TimedOut fault when a Receive sees no output within the operation timeout", async () => {
    const server = await start({ operationTimeoutMs: 150, handler: ({ signal }) => new Promise<number>((resolve) => signal.addEventListener("abort", () => resolve(130))) });
    const caller = basicCaller(server);
    const shellId = await caller.createShell();
    const commandId = await caller.run(shellId, "long-running");
    const started = Date.now();
    const res = await caller.receive(shellId, commandId);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(res.status).toBe(500);
    expect(res.headers["content-type"]).toBe("application/soap+xml;charset=UTF-8");
    expect(fault(res.text)).toMatchObject({ code: 2150858793, subcode: "w:TimedOut" });
    expect(res.text).toContain(`<a:RelatesTo>${res.messageId}</a:RelatesTo>`);
    expect(res.text).toContain('Machine="WINRM-TEST"');
    expect(server.stats.runningCommands).toBe(1);
    expect((await caller.signal(shellId, commandId)).status).toBe(200);
    expect((await caller.remove(shellId)).status).toBe(200);
    expect(server.stats.openShells).toBe(0);
  });

  it("answers InvalidSelectors (2150858843) for an unknown shell id", async () => {
    const server = await start();
    const caller = basicCaller(server);
    const missing = randomUUID().toUpperCase();
    const res = await caller.receive(missing, randomUUID());
    expect(res.status).toBe(500);
    expect(fault(res.text)).toMatchObject({ code: 2150858843, subcode: "w:InvalidSelectors" });
    expect(fault(res.text).message).toContain(missing);
    expect(fault((await caller.remove(missing)).text).code).toBe(2150858843);
  });

  it("closes shells on Signal terminate + Delete, and aborts the running command", async () => {
    let aborted: unknown;
    const server = await start({
      handler: ({ signal }) =>
        new Promise<number>((resolve) =>
          signal.addEventListener("abort", () => {
            aborted = signal.reason;
            resolve(1);
          }),
        ),
    });
    const caller = basicCaller(server);
    const first = await caller.createShell();
    const second = await caller.createShell();
    expect(server.stats.openShells).toBe(2);
    const commandId = await caller.run(first, "wait-forever");
    expect((await caller.signal(first, commandId)).text).toContain("<rsp:SignalResponse/>");
    expect(aborted).toBe("terminate");
    expect(fault((await caller.signal(first, commandId)).text).code).toBe(2150858843);
    const deleted = await caller.remove(first);
    expect(deleted.status).toBe(200);
    expect(deleted.text).toContain("http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse");
    await caller.run(second, "wait-forever");
    await caller.remove(second);
    expect(server.stats).toMatchObject({ openShells: 0, shellsCreated: 2, runningCommands: 0 });
    expect(server.shellIds()).toEqual([]);
  });

  it("refuses more shells than maxShells and more operations than maxConcurrentOperations", async () => {
    const server = await start({ maxShells: 1, maxConcurrentOperations: 1, operationTimeoutMs: 400, handler: ({ signal }) => new Promise<void>((r) => signal.addEventListener("abort", () => r())) });
    const caller = basicCaller(server);
    const shellId = await caller.createShell();
    const tooMany = await caller.call(A.create, "<shell:Shell/>");
    expect(fault(tooMany.text)).toMatchObject({ code: 2150859174, subcode: "w:QuotaLimit" });
    const commandId = await caller.run(shellId, "x");
    const pending = caller.receive(shellId, commandId);
    await new Promise((r) => setTimeout(r, 50));
    const busy = await caller.call(A.create, "<shell:Shell/>");
    expect(fault(busy.text).code).toBe(2150859174);
    expect(fault(busy.text).message).toMatch(/maximum number of 1 concurrent operations/);
    expect(fault((await pending).text).code).toBe(2150858793);
  });

  it("refuses a cmd command line longer than 8191 characters", async () => {
    const server = await start();
    const caller = basicCaller(server);
    const shellId = await caller.createShell();
    const res = await caller.call(A.command, `<shell:CommandLine><shell:Command>echo ${"x".repeat(8200)}</shell:Command></shell:CommandLine>`, { shellId });
    expect(fault(res.text).code).toBe(2147942606);
  });

  it("reports requests, bytes and per-operation counts in stats", async () => {
    const server = await start();
    const caller = basicCaller(server);
    const shellId = await caller.createShell();
    await caller.receiveAll(shellId, await caller.run(shellId, "echo", ["hi"]));
    await caller.remove(shellId);
    expect(server.stats.requests).toBeGreaterThanOrEqual(4);
    expect(server.stats.bytesIn).toBeGreaterThan(1000);
    expect(server.stats.bytesOut).toBeGreaterThan(1000);
    expect(server.stats.operations).toMatchObject({ create: 1, command: 1, delete: 1 });
    expect(server.stats.commandsStarted).toBe(1);
  });

  it("close() ends open connections and pending Receives promptly", async () => {
    const server = await startWinRMTestServer({ users: { alice: "S3cret!" }, allowUnencrypted: true, handler: ({ signal }) => new Promise<void>((r) => signal.addEventListener("abort", () => r())) });
    const caller = basicCaller(server);
    const shellId = await caller.createShell();
    const pending = caller.receive(shellId, await caller.run(shellId, "x"), 60);
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await server.close();
    await expect(pending).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(server.stats.openShells).toBe(0);
  });
});

describe("command handler", () => {
  it("hands PowerShell scripts from -EncodedCommand to the handler, with the shell's environment", async () => {
    const seen: unknown[] = [];
    const server = await start({
      handler: (ctx) => {
        seen.push({ shell: ctx.shell, script: ctx.script, env: ctx.env, user: ctx.user });
        ctx.stdout.write("ok");
        return 7;
      },
    });
    const caller = basicCaller(server);
    const shellId = await caller.createShell();
    const result = await caller.receiveAll(shellId, await caller.run(shellId, powershell("Get-Date; 'ü'")));
    expect(result).toMatchObject({ stdout: "ok", exitCode: 7 });
    expect(seen).toEqual([{ shell: "powershell", script: "Get-Date; 'ü'", env: { GREETING: "hej" }, user: "alice" }]);
  });

  it("answers PowerShell basics in the default handler, errors as CLIXML on stderr", async () => {
    const server = await start();
    const caller = basicCaller(server);
    const shellId = await caller.createShell();
    const ok = await caller.receiveAll(shellId, await caller.run(shellId, powershell("$ProgressPreference = 'SilentlyContinue'\nWrite-Output \"hello $env:GREETING\"; hostname\nexit 4")));
    expect(ok).toMatchObject({ stdout: "hello hej\r\nWINRM-TEST\r\n", stderr: "", exitCode: 4 });
    const bad = await caller.receiveAll(shellId, await caller.run(shellId, powershell("Write-Error 'it broke'")));
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/^#< CLIXML\r\n<Objs Version="1\.1\.0\.1" xmlns="http:\/\/schemas\.microsoft\.com\/powershell\/2004\/04"><S S="Error">it broke_x000D__x000A_<\/S><\/Objs>$/);
  });

  it("implements the copy protocol against the virtual file system: raw framed bytes on stdin, checked against the client's SHA-256", async () => {
    const server = await start({ files: [["c:/existing.txt", Buffer.from("old")]] });
    expect(server.files.get("C:\\existing.txt")?.toString()).toBe("old");
    const caller = basicCaller(server);
    const shellId = await caller.createShell();
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 256));
    const digest = createHash("sha256").update(data).digest();
    const commandId = await caller.run(shellId, powershell(copyScript("C:\\Temp\\new dir\\payload.bin", false)));
    // Frames split anywhere between Sends: the script reads a byte stream.
    const stream = Buffer.concat([frame(data.subarray(0, 3000)), frame(data.subarray(3000)), Buffer.alloc(4), digest]);
    await caller.sendStdin(shellId, commandId, stream.subarray(0, 2), false);
    await caller.sendStdin(shellId, commandId, stream.subarray(2, 3010), false);
    await caller.sendStdin(shellId, commandId, stream.subarray(3010), true);
    const result = await caller.receiveAll(shellId, commandId);
    expect(result).toMatchObject({ stdout: `sha256:${digest.toString("hex")}\r\n`, exitCode: 0 });
    expect(server.files.get("C:\\Temp\\new dir\\payload.bin")).toEqual(data);

    const again = await caller.run(shellId, powershell(copyScript("C:\\Temp\\new dir\\payload.bin", false)));
    await caller.sendStdin(shellId, again, Buffer.concat([Buffer.alloc(4), createHash("sha256").digest()]), true);
    const refused = await caller.receiveAll(shellId, again);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("already exists");
    expect(server.files.get("C:\\Temp\\new dir\\payload.bin")).toEqual(data);

    const wrong = await caller.run(shellId, powershell(copyScript("C:\\Temp\\wrong.bin", false)));
    await caller.sendStdin(shellId, wrong, Buffer.concat([frame(data), Buffer.alloc(4), Buffer.alloc(32)]), true);
    const mismatch = await caller.receiveAll(shellId, wrong);
    expect(mismatch.exitCode).toBe(1);
    expect(mismatch.stderr).toContain(`SHA-256 mismatch: wrote ${digest.toString("hex")}, the client sent ${"0".repeat(64)}`);
    expect([...server.files.keys()].sort()).toEqual(["C:\\Temp\\new dir\\payload.bin", "C:\\existing.txt"]);
  });

  it("models powershell.exe ending the copy: stdin closed early runs the finally block (partial file removed), Signal terminate kills it (partial file left)", async () => {
    const server = await start();
    const caller = basicCaller(server);
    const shellId = await caller.createShell();
    const partial = `C:\\cut.bin${COPY_PARTIAL_SUFFIX}`;

    const closed = await caller.run(shellId, powershell(copyScript("C:\\cut.bin", false)));
    await caller.sendStdin(shellId, closed, frame(Buffer.from("first frame")), false);
    await caller.sendStdin(shellId, closed, Buffer.alloc(0), true);
    const ended = await caller.receiveAll(shellId, closed);
    expect(ended.exitCode).toBe(1);
    expect(ended.stderr).toContain("stdin ended before the end of the file");
    expect(server.files.has(partial)).toBe(false);

    const killed = await caller.run(shellId, powershell(copyScript("C:\\cut.bin", false)));
    await caller.sendStdin(shellId, killed, frame(Buffer.from("first frame")), false);
    await waitFor(() => server.files.has(partial));
    expect((await caller.signal(shellId, killed)).status).toBe(200);
    await waitFor(() => server.stats.runningCommands === 0);
    expect(server.files.has(partial)).toBe(true);
    expect(server.files.has("C:\\cut.bin")).toBe(false);
  });

  it("holds a Send while the command has not read the envelope of stdin already buffered", async () => {
    let release!: () => void;
    const reading = new Promise<void>((resolve) => (release = resolve));
    const server = await start({
      maxEnvelopeSize: 65536,
      handler: async (ctx) => {
        await reading;
        let total = 0;
        for await (const chunk of ctx.stdin) total += (chunk as Buffer).length;
        ctx.stdout.write(`${total}`);
      },
    });
    const caller = basicCaller(server);
    const shellId = await caller.createShell();
    const commandId = await caller.run(shellId, "reader");
    // The first Send's 40,000 bytes fit the 64 KiB the server holds; the second's do not.
    expect((await caller.sendStdin(shellId, commandId, Buffer.alloc(40_000, 1), false)).status).toBe(200);
    let answered = false;
    const sending = caller.sendStdin(shellId, commandId, Buffer.alloc(40_000, 2), true).then((res) => {
      answered = true;
      return res;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(answered, "Send answered before the command read its data").toBe(false);
    release();
    expect((await sending).status).toBe(200);
    expect(await caller.receiveAll(shellId, commandId)).toMatchObject({ stdout: "80000", exitCode: 0 });
  });

  it("keeps the file system on disk with fileRoot, initial files included", async () => {
    const root = await mkdtemp(join(tmpdir(), "winrm-fileroot-"));
    try {
      const server = await start({ fileRoot: root, files: [["c:/app/config.json", Buffer.from("old")]] });
      expect(await readFile(join(root, "C", "app", "config.json"), "utf8")).toBe("old");
      const caller = basicCaller(server);
      const shellId = await caller.createShell();
      const commandId = await caller.run(shellId, powershell(copyScript("C:\\app\\config.json", true)));
      const data = Buffer.from('{"new":true}');
      await caller.sendStdin(shellId, commandId, Buffer.concat([frame(data), Buffer.alloc(4), createHash("sha256").update(data).digest()]), true);
      expect(await caller.receiveAll(shellId, commandId)).toMatchObject({ exitCode: 0 });
      expect(await readFile(join(root, "C", "app", "config.json"), "utf8")).toBe('{"new":true}');
      expect(await readdir(join(root, "C", "app"))).toEqual(["config.json"]);
      expect(server.files.size).toBe(0);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe("what Windows honours", () => {
  const seenCodePages: number[] = [];
  const printer =
    (text: string): WinRMCommandHandler =>
    (ctx) => {
    seenCodePages.push(ctx.codePage);
    ctx.stdout.write(text);
    ctx.stdout.write(Buffer.from([0xe2, 0x82, 0xac]));
    return 0;
  };

  it("encodes output in the WINRS_CODEPAGE the shell asked for (437 when absent), and tells the handler", async () => {
    seenCodePages.length = 0;
    const server = await start({ handler: printer("ü─€") });
    const caller = basicCaller(server);
    const results: Buffer[] = [];
    const requests: Record<string, string>[] = [{ WINRS_CODEPAGE: "437" }, {}, { WINRS_CODEPAGE: "65001" }];
    for (const options of requests) {
      const shellId = await caller.createShell(options);
      results.push((await caller.receiveAll(shellId, await caller.run(shellId, "anything"))).stdoutBytes);
    }
    // CP437 has ü (0x81) and ─ (0xC4) but no €, which becomes "?"; bytes the handler writes pass as they are.
    expect(results[0]).toEqual(Buffer.from([0x81, 0xc4, 0x3f, 0xe2, 0x82, 0xac]));
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(Buffer.concat([Buffer.from("ü─€", "utf8"), Buffer.from([0xe2, 0x82, 0xac])]));
    expect(seenCodePages).toEqual([437, 437, 65001]);
  });

  it("re-encodes the default handler's cmd output under code page 437", async () => {
    const server = await start();
    const caller = basicCaller(server);
    const shellId = await caller.createShell({ WINRS_CODEPAGE: "437" });
    const result = await caller.receiveAll(shellId, await caller.run(shellId, "printf", ["'Größe'"]));
    expect(result.stdoutBytes).toEqual(Buffer.from([0x47, 0x72, 0x94, 0xe1, 0x65]));
  });

  it("refuses a code page it does not model with the InvalidOptions fault", async () => {
    const server = await start();
    const res = await basicCaller(server).call(A.create, `<shell:Shell><shell:InputStreams>stdin</shell:InputStreams></shell:Shell>`, { options: { WINRS_CODEPAGE: "1252" } });
    expect(res.status).toBe(500);
    expect(fault(res.text)).toMatchObject({ code: 2150858809, subcode: "w:InvalidOptions" });
    expect(server.stats.openShells).toBe(0);
  });

  it("keeps every Receive response within the client's MaxEnvelopeSize, however much is queued", async () => {
    const data = Buffer.alloc(300_000, "x");
    const server = await start({
      handler: (ctx) => {
        ctx.stdout.write(data);
        ctx.stderr.write("e".repeat(5000));
        ctx.stdout.write("tail");
        return 0;
      },
    });
    const caller = basicCaller(server);
    const shellId = await caller.createShell();
    const result = await caller.receiveAll(shellId, await caller.run(shellId, "big"), 8192);
    expect(result.largest).toBeLessThanOrEqual(8192);
    // Filled, not merely small: each response carries close to the limit.
    expect(result.responses).toBeLessThan(Math.ceil((data.length * 4) / 3 / 6000));
    expect(result.stdout).toBe(`${data.toString()}tail`);
    expect(result.stderr).toBe("e".repeat(5000));
  });

  it("caps the response at its own MaxEnvelopeSizekb when the client asks for more", async () => {
    const server = await start({ maxEnvelopeSize: 32768, receiveChunkSize: 1 << 20, handler: (ctx) => ctx.stdout.write(Buffer.alloc(100_000, "y")) });
    const caller = basicCaller(server);
    const shellId = await caller.createShell();
    const result = await caller.receiveAll(shellId, await caller.run(shellId, "big"), 10 * 1024 * 1024);
    expect(result.largest).toBeLessThanOrEqual(32768);
    expect(result.stdout).toBe("y".repeat(100_000));
  });

  it("answers the EncodingLimit fault to a MaxEnvelopeSize under 8192 octets (MS-WSMV 3.1.4.1.7)", async () => {
    const server = await start();
    const res = await basicCaller(server).call(A.create, `<shell:Shell><shell:InputStreams>stdin</shell:InputStreams></shell:Shell>`, { maxEnvelopeSize: 4096 });
    expect(res.status).toBe(500);
    expect(fault(res.text)).toMatchObject({ code: 2150858805, subcode: "w:EncodingLimit" });
  });

  it("refuses a Send larger than its MaxEnvelopeSizekb with HTTP 413, as Windows does, and keeps the command", async () => {
    const server = await start({ maxEnvelopeSize: 32768 });
    const caller = basicCaller(server);
    const shellId = await caller.createShell();
    const commandId = await caller.run(shellId, "cat");
    const refused = await caller.sendStdin(shellId, commandId, Buffer.alloc(30_000, "z"), false);
    expect(refused.status).toBe(413);
    expect(refused.body.length).toBe(0);
    expect((await caller.sendStdin(shellId, commandId, Buffer.from("fits\n"), true)).status).toBe(200);
    expect(await caller.receiveAll(shellId, commandId)).toMatchObject({ stdout: "fits\n", exitCode: 0 });
  });
});
