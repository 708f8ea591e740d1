// The client against the in-process test server, over real sockets: what goes on the wire, what the
// caller gets back, and that no shell is left open on any path.
import { randomUUID } from "node:crypto";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { afterEach, describe, expect, expectTypeOf, it, vi } from "vitest";
import { startRecordingProxy } from "../test/proxy.ts";
import type { RecordingProxy } from "../test/proxy.ts";
import {
  WinRMAuthError,
  WinRMClient,
  WinRMConnectionError,
  WinRMError,
  WinRMFaultError,
  WinRMHttpError,
  WinRMTimeoutError,
} from "./index.ts";
import type { CommandResult, CopyResult, IdentifyResult, WinRMClientOptions, WinRMShell } from "./index.ts";
import { STDIN_BOOTSTRAP } from "./powershell.ts";
import { deleteShellRequest } from "./soap.ts";
import { defaultCommandHandler, startWinRMTestServer } from "./testing/index.ts";
import type { WinRMCommandHandler, WinRMTestServer, WinRMTestServerOptions } from "./testing/index.ts";

const USER = "alice";
const PASSWORD = "S3cret!";

let servers: WinRMTestServer[] = [];
let clients: WinRMClient[] = [];
let cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  const [closing, stopping, extra] = [clients, servers, cleanups];
  [clients, servers, cleanups] = [[], [], []];
  await Promise.all(closing.map((c) => c.close()));
  // Whatever the test did, closing its clients must leave no shell behind.
  const leftOpen = stopping.map((s) => s.stats.openShells);
  await Promise.all([...stopping.map((s) => s.close()), ...extra.map((c) => c())]);
  expect(leftOpen, "shells left open on the server").toEqual(stopping.map(() => 0));
});

async function start(options: WinRMTestServerOptions = {}): Promise<WinRMTestServer> {
  const server = await startWinRMTestServer({ users: { [USER]: PASSWORD }, ...options });
  servers.push(server);
  return server;
}

function connect(server: WinRMTestServer, overrides: Partial<WinRMClientOptions> = {}): WinRMClient {
  const client = new WinRMClient({
    host: server.host,
    port: server.port,
    transport: server.url.startsWith("https:") ? "https" : "http",
    auth: "ntlm",
    username: USER,
    password: PASSWORD,
    ...(server.ca ? { ca: server.ca } : {}),
    ...overrides,
  });
  clients.push(client);
  return client;
}

async function proxyTo(server: WinRMTestServer): Promise<RecordingProxy> {
  const proxy = await startRecordingProxy(server);
  cleanups.push(() => proxy.close());
  return proxy;
}

/** Deletes a shell with a hand-made request: stands in for an IdleTimeout or a WinRM service restart. */
async function deleteShellBehindTheClientsBack(server: WinRMTestServer, shellId: string): Promise<void> {
  const request = deleteShellRequest({ to: server.url, operationTimeoutSec: 5, maxEnvelopeSize: 153600 }, shellId);
  const res = await fetch(server.url, {
    method: "POST",
    body: request.xml,
    headers: { Authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`, "Content-Type": "application/soap+xml;charset=UTF-8" },
  });
  expect(res.status).toBe(200);
}

/** A handler that runs until the command is terminated. */
const waitForever =
  (before?: (write: (text: string) => void) => void): WinRMCommandHandler =>
  ({ signal, stdout }) =>
    new Promise<number>((resolve) => {
      before?.((text) => stdout.write(text));
      signal.addEventListener("abort", () => resolve(130), { once: true });
    });

const encoded = (script: string): string => Buffer.from(script, "utf16le").toString("base64");

const ACTION = /<a:Action s:mustUnderstand="true">[^<]*\/([A-Za-z]+)<\/a:Action>/g;

describe("running commands", () => {
  it("sends the documented PowerShell command line and returns output and exit code", async () => {
    const seen: { commandLine: string; script?: string }[] = [];
    const server = await start({
      handler: (ctx) => {
        seen.push({ commandLine: ctx.commandLine, ...(ctx.script !== undefined ? { script: ctx.script } : {}) });
        ctx.stdout.write("hello\r\n");
        ctx.stderr.write("careful\r\n");
        return 3;
      },
    });
    const result = await connect(server).runPowerShell("Get-Date; 'ü'");
    expect(result).toEqual({ stdout: "hello\r\n", stderr: "careful\r\n", exitCode: 3 });
    const script = "$ProgressPreference='SilentlyContinue'\nGet-Date; 'ü'";
    // The command line carries only the bootstrap; the server read the script from stdin.
    expect(seen).toEqual([{ commandLine: `powershell -NoProfile -NonInteractive -EncodedCommand ${encoded(STDIN_BOOTSTRAP)}`, script }]);
  });

  it("runs PowerShell through the default handler, with exit codes and CLIXML errors made readable", async () => {
    const server = await start();
    const client = connect(server);
    expect(await client.runPowerShell('Write-Output "hello $env:COMPUTERNAME"\nexit 4')).toEqual({ stdout: "hello WINRM-TEST\r\n", stderr: "", exitCode: 4 });
    expect(await client.runPowerShell("Write-Error 'it broke'")).toEqual({ stdout: "", stderr: "it broke\r\n", exitCode: 1 });
  });

  it("runs cmd command lines with arguments, stdout, stderr and exit code", async () => {
    const server = await start();
    const client = connect(server);
    expect(await client.runCmd("echo", ["two  words", "x"])).toEqual({ stdout: "two words x\n", stderr: "", exitCode: 0 });
    expect(await client.runCmd("echo oops >&2; exit 7")).toEqual({ stdout: "", stderr: "oops\n", exitCode: 7 });
  });

  it("walks the shell lifecycle on the wire: Create (UTF-8, no profile), Command, Receive, Signal, Delete, each reply related to its request", async () => {
    const server = await start({ allowUnencrypted: true });
    const proxy = await proxyTo(server);
    const client = connect(server, { port: proxy.port, auth: "basic", allowUnencrypted: true });
    await client.runCmd("echo", ["hi"]);
    const sent = proxy.sent().toString("utf8");
    const received = proxy.received().toString("utf8");
    const actions = [...sent.matchAll(ACTION)].map((m) => m[1]);
    // Output and exit may arrive in one Receive or several, depending on scheduling.
    expect(actions.join(" ")).toMatch(/^Create Command (Receive )+Signal Delete$/);
    expect(sent).toContain('<w:Option Name="WINRS_NOPROFILE">TRUE</w:Option><w:Option Name="WINRS_CODEPAGE">65001</w:Option>');
    expect(sent).toContain('<w:Option Name="WINRS_CONSOLEMODE_STDIN">TRUE</w:Option>');
    expect(sent).toContain("<rsp:Code>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate</rsp:Code>");
    const messageIds = [...sent.matchAll(/<a:MessageID>([^<]+)<\/a:MessageID>/g)].map((m) => m[1]);
    expect(messageIds).toHaveLength(actions.length);
    expect(new Set(messageIds).size).toBe(actions.length);
    expect([...received.matchAll(/<a:RelatesTo>([^<]+)<\/a:RelatesTo>/g)].map((m) => m[1])).toEqual(messageIds);
  });

  it("decodes UTF-8 split across Receive responses, drops the BOM and streams chunks to the callbacks", async () => {
    const text = "grüße 😀 ✓ — done\r\n";
    const server = await start({
      receiveChunkSize: 3,
      handler: (ctx) => {
        ctx.stdout.write(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
        ctx.stderr.write("fel: ü\r\n");
      },
    });
    const chunks: string[] = [];
    const errors: string[] = [];
    const result = await connect(server).runCmd("anything", [], { onStdout: (t) => chunks.push(t), onStderr: (t) => errors.push(t) });
    // Streamed output reaches the callbacks only; the result does not keep a second copy.
    expect(result).toEqual({ stdout: "", stderr: "", exitCode: 0 });
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.join("")).toBe(text);
    expect(chunks.join("")).not.toContain("\uFFFD");
    expect(errors.join("")).toBe("fel: ü\r\n");
    expect(server.stats.operations.receive).toBeGreaterThan(10);
  });

  it("keeps what it does not stream, and nothing of what it streams, however much a command prints", async () => {
    const line = `${"x".repeat(1023)}\n`;
    const server = await start({
      handler: async (ctx) => {
        // 8 MiB on stdout, a short stderr.
        for (let i = 0; i < 8 * 1024; i++) {
          ctx.stdout.write(line);
          if (i % 1024 === 0) await new Promise((r) => setImmediate(r));
        }
        ctx.stderr.write("done\r\n");
      },
    });
    let streamed = 0;
    const result = await connect(server).runCmd("big", [], { onStdout: (t) => (streamed += t.length) });
    expect(streamed).toBe(8 * 1024 * 1024);
    expect(result).toEqual({ stdout: "", stderr: "done\r\n", exitCode: 0 });
  });

  it("abandons a response larger than maxResponseBytes instead of buffering it, with or without Content-Length", async () => {
    const sockets: net.Socket[] = [];
    let closed = 0;
    const hostile = http.createServer((req, res) => {
      sockets.push(req.socket);
      req.socket.on("close", () => closed++);
      req.resume();
      if (req.url === "/sized") {
        res.writeHead(200, { "content-type": "application/soap+xml", "content-length": String(64 * 1024 * 1024) });
        res.write(Buffer.alloc(1024, "a"));
        return;
      }
      // Chunked and endless: without a cap the client would read until it ran out of memory.
      res.writeHead(200, { "content-type": "application/soap+xml" });
      const chunk = Buffer.alloc(64 * 1024, "a");
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once("drain", pump);
      };
      pump();
    });
    await new Promise<void>((r) => hostile.listen(0, "127.0.0.1", r));
    try {
      const port = (hostile.address() as AddressInfo).port;
      for (const path of ["/sized", "/wsman"]) {
        const client = new WinRMClient({ host: "127.0.0.1", port, transport: "http", auth: "basic", allowUnencrypted: true, username: USER, password: PASSWORD, path, maxResponseBytes: 1024 * 1024 });
        await expect(client.runCmd("hostname")).rejects.toThrow(/larger than 1048576 bytes \(maxResponseBytes\)/);
      }
      await vi.waitFor(() => expect(closed).toBe(sockets.length));
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => hostile.close(r));
    }
  });

  it("turns CLIXML with progress records and several error lines into readable text, even split into small pieces", async () => {
    const clixml =
      '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">' +
      '<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for first use.</AV><AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Completed</T><SR>-1</SR><SD> </SD></PR></MS></Obj>' +
      '<S S="Error">Get-Item : Cannot find path \'C:\\nope\' because it does not exist._x000D__x000A_</S>' +
      '<S S="Error">    + CategoryInfo          : ObjectNotFound: (C:\\nope:String) [Get-Item], ItemNotFoundException_x000D__x000A_</S>' +
      '<S S="warning">disk &lt;10% free_x000D__x000A_</S></Objs>';
    const server = await start({ receiveChunkSize: 7, handler: (ctx) => void ctx.stderr.write(clixml) });
    const pieces: string[] = [];
    const result = await connect(server).runPowerShell("Get-Item C:\\nope", { onStderr: (t) => pieces.push(t) });
    const readable =
      "Get-Item : Cannot find path 'C:\\nope' because it does not exist.\r\n" +
      "    + CategoryInfo          : ObjectNotFound: (C:\\nope:String) [Get-Item], ItemNotFoundException\r\n" +
      "WARNING: disk <10% free\r\n";
    expect(result.stderr).toBe("");
    expect(pieces.join("")).toBe(readable);
    expect(pieces.length).toBeGreaterThan(1);
  });

  it("sends stdin (string, Buffer or Readable) in few large Sends and closes it with End", async () => {
    const server = await start({ allowUnencrypted: true });
    const proxy = await proxyTo(server);
    const client = connect(server, { port: proxy.port, auth: "basic", allowUnencrypted: true, maxEnvelopeSizeKb: 64 });
    expect(await client.runCmd("cat", [], { stdin: "first\nsecond ü\n" })).toMatchObject({ stdout: "first\nsecond ü\n", exitCode: 0 });
    const sent = proxy.sent().toString("utf8");
    expect(sent).toContain('<w:Option Name="WINRS_CONSOLEMODE_STDIN">FALSE</w:Option>');
    expect(sent).toMatch(/<rsp:Stream Name="stdin" CommandId="[^"]+" End="true">/);

    const big = Buffer.alloc(2 * 1024 * 1024, "0123456789abcdef\n");
    const before = server.stats.operations.send;
    const pieces = Readable.from((function* () {
      for (let i = 0; i < big.length; i += 1000) yield big.subarray(i, i + 1000);
    })());
    const result = await client.runCmd("wc", ["-c"], { stdin: pieces });
    expect(result.stdout.trim()).toBe(String(big.length));
    const sends = server.stats.operations.send - before;
    // 64 KiB envelopes carry ~43 KiB of stdin each: 49 Sends, not 2,098 (one per 1,000-byte piece).
    expect(sends).toBeGreaterThanOrEqual(40);
    expect(sends).toBeLessThanOrEqual(60);
  });
});

describe("deadlines and cancellation", () => {
  it("retries a Receive answered with the TimedOut fault, transparently", async () => {
    const server = await start({
      operationTimeoutMs: 100,
      handler: async (ctx) => {
        await new Promise((r) => setTimeout(r, 700));
        ctx.stdout.write("late\r\n");
      },
    });
    expect(await connect(server).runCmd("slow")).toEqual({ stdout: "late\r\n", stderr: "", exitCode: 0 });
    expect(server.stats.faults).toBeGreaterThanOrEqual(2);
    expect(server.stats.operations.receive - server.stats.faults).toBeGreaterThanOrEqual(1);
    expect(server.stats.operations.receive - server.stats.faults).toBeLessThanOrEqual(2);
  });

  it("terminates a command that outlives timeoutSec, deletes its shell and throws WinRMTimeoutError", async () => {
    const server = await start({ handler: waitForever() });
    const client = connect(server);
    const started = Date.now();
    const error = await client.runPowerShell("Start-Sleep 3600", { timeoutSec: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMTimeoutError);
    expect((error as Error).message).toMatch(/timeoutSec=1 s and was terminated/);
    // The Receive's OperationTimeout is cut to the deadline: no wait for the 20 s default.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(server.stats.operations.signal).toBe(1);
    expect(server.stats.openShells).toBe(0);
    await vi.waitFor(() => expect(server.stats.runningCommands).toBe(0));
  });

  it("on abort sends Signal terminate, then Delete, and rejects with the signal's reason", async () => {
    const server = await start({ handler: waitForever((write) => write("started\r\n")) });
    const controller = new AbortController();
    const promise = connect(server).runPowerShell("long", { signal: controller.signal, onStdout: () => controller.abort() });
    await expect(promise).rejects.toMatchObject({ name: "AbortError" });
    expect(server.stats.operations).toMatchObject({ signal: 1, delete: 1 });
    expect(server.stats.openShells).toBe(0);
    await vi.waitFor(() => expect(server.stats.runningCommands).toBe(0));
  });

  it("aborts a long-polling Receive at once over NTLM with encryption, then cleans up on a re-authenticated connection", async () => {
    const hang = waitForever();
    const server = await start({ handler: (ctx) => (ctx.commandLine === "wait" ? hang(ctx) : defaultCommandHandler(ctx)) });
    const client = connect(server, { operationTimeoutSec: 60 });
    const controller = new AbortController();
    const started = Date.now();
    const promise = client.runCmd("wait", [], { signal: controller.signal });
    await vi.waitFor(() => expect(server.stats.operations.receive).toBe(1));
    controller.abort(new Error("user cancelled"));
    await expect(promise).rejects.toThrow("user cancelled");
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(server.stats.openShells).toBe(0);
    expect(client.stats.authentications).toBe(2);
    expect(await client.runCmd("echo", ["still works"])).toMatchObject({ stdout: "still works\n" });
  });

  it("does nothing on the server when the signal is already aborted", async () => {
    const server = await start();
    const controller = new AbortController();
    controller.abort();
    await expect(connect(server).runCmd("echo", [], { signal: controller.signal })).rejects.toMatchObject({ name: "AbortError" });
    expect(server.stats.shellsCreated).toBe(0);
  });

  it("deletes the shell when the Command itself fails", async () => {
    // A Create fits in 6,000 bytes; this Command does not.
    const server = await start({ maxEnvelopeSize: 6000 });
    const error = await connect(server).runCmd("echo", ["x".repeat(7000)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMHttpError);
    expect(error).toMatchObject({ status: 413 });
    expect((error as Error).message).toMatch(/maxEnvelopeSizeKb to at most the listener's value/);
    expect(server.stats).toMatchObject({ shellsCreated: 1, openShells: 0 });
  });
});

describe("errors", () => {
  it("throws WinRMAuthError for a wrong password, over NTLM and Basic", async () => {
    const server = await start({ https: true });
    for (const auth of ["ntlm", "basic"] as const) {
      const error = await connect(server, { auth, password: "wrong" }).runCmd("echo").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WinRMAuthError);
      expect(error).toMatchObject({ status: 401 });
      expect((error as Error).message).toContain(`for user "${USER}"`);
      expect((error as Error).message).toContain("LocalAccountTokenFilterPolicy");
    }
    expect(server.stats.shellsCreated).toBe(0);
  });

  it("throws WinRMConnectionError when the port is closed, naming winrm quickconfig", async () => {
    const server = await startWinRMTestServer();
    await server.close();
    const error = await connect(server, { auth: "ntlm" }).identify().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMConnectionError);
    expect(error).toMatchObject({ code: "ECONNREFUSED" });
    expect((error as Error).message).toMatch(/refused.*winrm quickconfig/);
  });

  it("throws WinRMConnectionError when the host name does not resolve", async () => {
    const client = new WinRMClient({ host: "no-such-host.invalid", transport: "https", username: USER, password: PASSWORD, connectTimeoutSec: 20 });
    clients.push(client);
    const error = await client.identify().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMConnectionError);
    expect(["ENOTFOUND", "EAI_AGAIN"]).toContain((error as WinRMConnectionError).code);
    expect((error as Error).message).toMatch(/could not be resolved/);
  });

  it("throws WinRMConnectionError for an untrusted certificate, pointing at the ca option", async () => {
    const server = await start({ https: true });
    const client = new WinRMClient({ host: server.host, port: server.port, transport: "https", username: USER, password: PASSWORD });
    clients.push(client);
    const error = await client.runCmd("echo").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMConnectionError);
    expect((error as Error).message).toMatch(/could not be verified.*`ca` option/);
    expect(server.stats.shellsCreated).toBe(0);
  });

  it("throws WinRMConnectionError when the TLS handshake never completes within connectTimeoutSec", async () => {
    const silent = net.createServer(() => undefined);
    const sockets = new Set<net.Socket>();
    silent.on("connection", (s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      silent.close(() => r());
    }));
    const client = new WinRMClient({ host: "127.0.0.1", port: (silent.address() as AddressInfo).port, transport: "https", username: USER, password: PASSWORD, connectTimeoutSec: 1 });
    clients.push(client);
    const error = await client.identify().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMConnectionError);
    expect((error as Error).message).toMatch(/timed out connecting.*connectTimeoutSec/);
  });

  it("throws WinRMTimeoutError when the server accepts a request but never answers", async () => {
    const hung = http.createServer(() => undefined);
    await new Promise<void>((r) => hung.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => {
      hung.closeAllConnections();
      hung.close(() => r());
    }));
    const client = new WinRMClient({ host: "127.0.0.1", port: (hung.address() as AddressInfo).port, transport: "http", auth: "basic", allowUnencrypted: true, username: USER, password: PASSWORD, operationTimeoutSec: 1 });
    clients.push(client);
    const error = await client.identify().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMTimeoutError);
    expect((error as Error).message).toMatch(/no answer from the WinRM server/);
  });

  it("throws WinRMFaultError with code, machine and advice when the shell quota is exhausted", async () => {
    const server = await start({ maxShells: 1 });
    const client = connect(server);
    const shell = await client.openShell();
    const error = await client.runCmd("echo").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMFaultError);
    expect(error).toMatchObject({ code: 2150859174, subcode: "QuotaLimit", machine: "WINRM-TEST" });
    expect((error as WinRMFaultError).wsmanMessage).toMatch(/maximum number of 1 concurrent shells/);
    expect((error as Error).message).toMatch(/MaxShellsPerUser/);
    await shell.close();
  });

  it("throws WinRMFaultError (AccessDenied) for a user who may not use WinRM", async () => {
    const server = await start({ users: { [USER]: PASSWORD }, deniedUsers: [USER] });
    const error = await connect(server).runCmd("echo").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMFaultError);
    expect(error).toMatchObject({ code: 5 });
    expect((error as Error).message).toMatch(/Remote Management Users/);
  });

  it("throws WinRMHttpError for a listener path that does not exist", async () => {
    const server = await start();
    const error = await connect(server, { path: "/nope" }).identify().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMHttpError);
    expect(error).toMatchObject({ status: 404 });
  });

  it("refuses a reply whose RelatesTo names another request", async () => {
    const foreign = `uuid:${randomUUID().toUpperCase()}`;
    const liar = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "Content-Type": "application/soap+xml;charset=UTF-8" });
        res.end(
          `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">` +
            `<s:Header><a:RelatesTo>${foreign}</a:RelatesTo></s:Header><s:Body><x:ResourceCreated xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer"><a:ReferenceParameters><w:SelectorSet><w:Selector Name="ShellId">ABC</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated></s:Body></s:Envelope>`,
        );
      });
    });
    await new Promise<void>((r) => liar.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => {
      liar.closeAllConnections();
      liar.close(() => r());
    }));
    const client = new WinRMClient({ host: "127.0.0.1", port: (liar.address() as AddressInfo).port, transport: "http", auth: "basic", allowUnencrypted: true, username: USER, password: PASSWORD });
    clients.push(client);
    const error = await client.openShell().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMError);
    expect((error as Error).message).toContain(`answered message ${foreign} instead of uuid:`);
  });

  it("validates options with messages that say what to pass", () => {
    expect(() => new WinRMClient({ host: "", username: USER, password: PASSWORD })).toThrow(/needs a host/);
    expect(() => new WinRMClient({ host: "h", username: USER, password: PASSWORD, port: 70000 })).toThrow(/port must be an integer/);
    expect(() => new WinRMClient({ host: "h", username: USER, password: PASSWORD, transport: "ftp" as "http" })).toThrow(/transport must be "http" or "https"/);
    expect(() => new WinRMClient({ host: "h", username: USER, password: PASSWORD, operationTimeoutSec: 0 })).toThrow(/operationTimeoutSec must be a positive number/);
  });
});

describe("transports", () => {
  it("resolves the host with the given lookup, over HTTP and HTTPS, and connects nowhere when it refuses", async () => {
    for (const https of [false, true]) {
      const server = await start(https ? { https: true } : {});
      const asked: string[] = [];
      const lookup: net.LookupFunction = (hostname, options, callback) => {
        asked.push(hostname);
        if (options.all) callback(null, [{ address: server.host, family: 4 }]);
        else callback(null, server.host, 4);
      };
      const client = connect(server, { host: "winrm-by-lookup.invalid", lookup, rejectUnauthorized: false, ca: undefined });
      expect((await client.runCmd("echo", ["looked up"])).stdout).toBe("looked up\n");
      expect(asked[0]).toBe("winrm-by-lookup.invalid");
    }
    const server = await start();
    const refusing: net.LookupFunction = (_hostname, _options, callback) => callback(Object.assign(new Error("address refused by policy"), { code: "EREFUSED_BY_TEST" }), "", 4);
    const error = await connect(server, { host: "refused.invalid", lookup: refusing }).identify().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMConnectionError);
    expect(error).toMatchObject({ code: "EREFUSED_BY_TEST" });
    expect(server.stats.operations.identify ?? 0).toBe(0);
  });

  it("speaks NTLM over HTTPS with a custom CA and sends channel binding (the server insists on it)", async () => {
    const server = await start({ https: true, auth: "ntlm", strictChannelBinding: true });
    const client = connect(server);
    expect(await client.runCmd("echo", ["over tls"])).toMatchObject({ stdout: "over tls\n", exitCode: 0 });
    expect(server.stats.authHandshakes).toBe(1);
  });

  it("connects over HTTPS without verification only when asked to", async () => {
    const server = await start({ https: true, auth: "basic" });
    const client = connect(server, { auth: "basic", ca: undefined, rejectUnauthorized: false });
    expect((await client.runCmd("echo", ["unverified"])).stdout).toBe("unverified\n");
  });

  it("refuses Basic over plain HTTP unless allowUnencrypted, and then needs the listener to allow it too", async () => {
    const strict = await start();
    expect(() => connect(strict, { auth: "basic" })).toThrow(/allowUnencrypted: true/);
    await expect(connect(strict, { auth: "basic", allowUnencrypted: true }).runCmd("echo")).rejects.toBeInstanceOf(WinRMAuthError);
    const lax = await start({ allowUnencrypted: true });
    expect((await connect(lax, { auth: "basic", allowUnencrypted: true }).runCmd("echo", ["clear"])).stdout).toBe("clear\n");
  });

  it("encrypts every message with NTLM over plain HTTP: nothing readable on the wire", async () => {
    const server = await start();
    const proxy = await proxyTo(server);
    const client = connect(server, { port: proxy.port });
    const marker = "confidential-7f3a";
    expect(await client.runPowerShell(`Write-Output '${marker}'`)).toMatchObject({ stdout: `${marker}\r\n`, exitCode: 0 });
    const sent = proxy.sent().toString("latin1");
    const received = proxy.received().toString("latin1");
    expect(sent).toContain('Content-Type: multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted"');
    expect(received).toContain('multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted"');
    for (const text of [marker, encoded(`$ProgressPreference='SilentlyContinue'\nWrite-Output '${marker}'`).slice(0, 40), "Envelope", "ShellId"]) {
      expect(sent).not.toContain(text);
      expect(received).not.toContain(text);
    }
    expect(received).not.toContain(Buffer.from(`${marker}\r\n`).toString("base64"));
  });

  it("keeps one authenticated keep-alive connection for sequential and concurrent commands", async () => {
    const server = await start();
    const client = connect(server);
    for (let i = 0; i < 3; i++) expect((await client.runCmd("echo", [String(i)])).stdout).toBe(`${i}\n`);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => client.runPowerShell(`Write-Output 'job ${i}'`)));
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 10 }, (_, i) => `job ${i}\r\n`));
    expect(server.stats).toMatchObject({ connections: 1, authHandshakes: 1, shellsCreated: 13, openShells: 0 });
    expect(client.stats).toMatchObject({ connections: 1, authentications: 1 });
  });

  it("re-authenticates when the server forgets the connection's NTLM context (401)", async () => {
    const server = await start();
    const proxy = await proxyTo(server);
    const client = connect(server, { port: proxy.port });
    await client.runCmd("echo", ["one"]);
    proxy.dropUpstream();
    expect((await client.runCmd("echo", ["two"])).stdout).toBe("two\n");
    expect(server.stats.connections).toBe(2);
    expect(server.stats.authHandshakes).toBe(2);
    expect(client.stats.connections).toBe(1);
  });

  it("sends a request again on a new connection when the kept-alive one turns out to be gone", async () => {
    const server = await start();
    const proxy = await proxyTo(server);
    const client = connect(server, { port: proxy.port });
    await client.runCmd("echo", ["one"]);
    proxy.resetNextRequest();
    expect((await client.runCmd("echo", ["two"])).stdout).toBe("two\n");
    expect(client.stats).toMatchObject({ connections: 2, authentications: 2 });
    expect(server.stats.openShells).toBe(0);
  });

  it("identifies the server with an authenticated wsmid:Identify", async () => {
    const server = await start({ https: true });
    expect(await connect(server).identify()).toEqual({
      protocolVersion: "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
      productVendor: "Microsoft Corporation",
      productVersion: "OS: 10.0.20348 SP: 0.0 Stack: 3.0",
    });
    expect(server.stats.operations.identify).toBe(1);
  });
});

describe("openShell", () => {
  it("runs several commands in one shell and deletes it on close", async () => {
    const server = await start();
    const client = connect(server);
    const shell = await client.openShell();
    expect((await shell.runCmd("echo", ["a"])).stdout).toBe("a\n");
    expect((await shell.runPowerShell("Write-Output 'b'")).stdout).toBe("b\r\n");
    expect((await shell.runCmd("cat", [], { stdin: "c" })).stdout).toBe("c");
    expect(server.stats).toMatchObject({ shellsCreated: 1, openShells: 1, commandsStarted: 3 });
    await shell.close();
    await shell.close();
    expect(server.stats.openShells).toBe(0);
    await expect(shell.runCmd("echo")).rejects.toThrow(/shell was closed/);
  });

  it("reopens a shell the server no longer knows, and fails a command whose shell vanished mid-run", async () => {
    let release: (() => void) | undefined;
    const server = await start({
      allowUnencrypted: true,
      handler: (ctx) =>
        ctx.commandLine === "hang"
          ? new Promise<number>((resolve) => {
              release = () => resolve(0);
              ctx.signal.addEventListener("abort", () => resolve(1));
            })
          : ctx.stdout.write(`${ctx.commandLine}\r\n`),
    });
    const client = connect(server);
    const shell = await client.openShell();
    const deleteShell = (id: string) => deleteShellBehindTheClientsBack(server, id);
    const first = shell.id as string;
    await deleteShell(first);
    expect((await shell.runCmd("after-delete")).stdout).toBe("after-delete\r\n");
    expect(shell.id).not.toBe(first);
    expect(server.stats.shellsCreated).toBe(2);

    const running = shell.runCmd("hang").catch((e: unknown) => e);
    await vi.waitFor(() => expect(server.stats.runningCommands).toBe(1));
    await deleteShell(shell.id as string);
    const error = await running;
    release?.();
    expect(error).toBeInstanceOf(WinRMFaultError);
    expect(error).toMatchObject({ code: 2150858843 });
    expect((error as Error).message).toMatch(/openShell\(\) does this automatically/);
    expect((await shell.runCmd("again")).stdout).toBe("again\r\n");
    expect(server.stats.shellsCreated).toBe(3);
  });

  it("replaces a lost shell once even when several commands notice at the same time", async () => {
    const server = await start({ allowUnencrypted: true, handler: (ctx) => void ctx.stdout.write(`${ctx.commandLine}\r\n`) });
    const client = connect(server, { maxConnections: 4 });
    const shell = await client.openShell();
    await deleteShellBehindTheClientsBack(server, shell.id as string);
    const results = await Promise.all(["a", "b", "c", "d"].map((c) => shell.runCmd(c)));
    expect(results.map((r) => r.stdout)).toEqual(["a\r\n", "b\r\n", "c\r\n", "d\r\n"]);
    expect(server.stats).toMatchObject({ shellsCreated: 2, openShells: 1 });
    await shell.close();
  });

  it("client.close() deletes the shells still open", async () => {
    const server = await start();
    const client = connect(server);
    await client.openShell();
    await client.openShell();
    expect(server.stats.openShells).toBe(2);
    await client.close();
    expect(server.stats.openShells).toBe(0);
    await expect(client.runCmd("echo")).rejects.toThrow(/client was closed/);
  });
});

describe("public types", () => {
  it("exposes typed results and options", () => {
    expectTypeOf<WinRMClient["runPowerShell"]>().returns.resolves.toEqualTypeOf<CommandResult>();
    expectTypeOf<WinRMClient["runCmd"]>().parameter(1).toEqualTypeOf<readonly string[] | undefined>();
    expectTypeOf<WinRMClient["copyFile"]>().returns.resolves.toEqualTypeOf<CopyResult>();
    expectTypeOf<WinRMClient["identify"]>().returns.resolves.toEqualTypeOf<IdentifyResult>();
    expectTypeOf<WinRMClient["openShell"]>().returns.resolves.toEqualTypeOf<WinRMShell>();
    expectTypeOf<WinRMClientOptions["transport"]>().toEqualTypeOf<"http" | "https" | undefined>();
    expectTypeOf<CommandResult>().toEqualTypeOf<{ stdout: string; stderr: string; exitCode: number }>();
  });
});
