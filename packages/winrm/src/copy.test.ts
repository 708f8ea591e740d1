// copyFile against the test server's copy protocol, over real sockets.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { WinRMClient, WinRMCopyError, WinRMFaultError, WinRMTimeoutError } from "./index.ts";
import { deleteShellRequest } from "./soap.ts";
import type { CopyProgress, WinRMClientOptions } from "./index.ts";
import { COPY_MARKER, startWinRMTestServer } from "./testing/index.ts";
import type { WinRMCommandHandler, WinRMTestServer, WinRMTestServerOptions } from "./testing/index.ts";

let servers: WinRMTestServer[] = [];
let clients: WinRMClient[] = [];
let dirs: string[] = [];

afterEach(async () => {
  const [closing, stopping, temp] = [clients, servers, dirs];
  [clients, servers, dirs] = [[], [], []];
  await Promise.all(closing.map((c) => c.close()));
  const leftOpen = stopping.map((s) => s.stats.openShells);
  await Promise.all([...stopping.map((s) => s.close()), ...temp.map((d) => rm(d, { recursive: true, force: true }))]);
  expect(leftOpen, "shells left open on the server").toEqual(stopping.map(() => 0));
});

async function start(options: WinRMTestServerOptions = {}): Promise<WinRMTestServer> {
  const server = await startWinRMTestServer({ users: { alice: "pw" }, ...options });
  servers.push(server);
  return server;
}

function connect(server: WinRMTestServer, overrides: Partial<WinRMClientOptions> = {}): WinRMClient {
  const client = new WinRMClient({ host: server.host, port: server.port, transport: "http", auth: "ntlm", username: "alice", password: "pw", ...overrides });
  clients.push(client);
  return client;
}

const sha256 = (data: Buffer): string => createHash("sha256").update(data).digest("hex");

describe("copyFile", () => {
  it("copies a Buffer in a few large Sends through one PowerShell process and verifies the remote SHA-256", async () => {
    const server = await start();
    const data = randomBytes(1024 * 1024 + 17);
    const progress: CopyProgress[] = [];
    const result = await connect(server).copyFile(data, "C:\\Deploy\\new folder\\app.bin", { onProgress: (p) => progress.push(p) });
    expect(result).toEqual({ remotePath: "C:\\Deploy\\new folder\\app.bin", bytes: data.length, sha256: sha256(data) });
    expect(server.files.get("C:\\Deploy\\new folder\\app.bin")?.equals(data), "file content").toBe(true);
    expect(server.stats).toMatchObject({ shellsCreated: 1, commandsStarted: 1, openShells: 0 });
    // ~283 KB of file per Send with the default 500 KB envelope: 4 Sends, not one per small chunk.
    expect(server.stats.operations.send).toBeLessThanOrEqual(5);
    expect(progress.at(-1)).toEqual({ bytesSent: data.length, totalBytes: data.length });
    const sent = progress.map((p) => p.bytesSent);
    expect(sent).toEqual([...sent].sort((a, b) => a - b));
  });

  it("sends a real PowerShell script that creates the folder, decodes stdin line by line and prints the hash", async () => {
    let script = "";
    const server = await start({
      handler: async (ctx) => {
        script = ctx.script ?? "";
        for await (const _ of ctx.stdin) void _;
        ctx.stdout.write(`sha256:${sha256(Buffer.from("x"))}\r\n`);
      },
    });
    await connect(server).copyFile(Buffer.from("x"), "D:\\a'b\\c.txt", { overwrite: true });
    const lines = script.split("\n");
    expect(lines[0]).toBe(`${COPY_MARKER} dest=${Buffer.from("D:\\a'b\\c.txt").toString("base64")} overwrite=true`);
    expect(script).toContain("[IO.Directory]::CreateDirectory($dir)");
    expect(script).toContain("[Console]::In");
    expect(script).toContain("[Convert]::FromBase64String($line)");
    expect(script).toContain("TransformBlock");
    // The destination travels as base64, so no quote in a path can break out of the script.
    expect(script).not.toContain("a'b");
  });

  it("copies from a local path and from a Readable of small chunks, pulling the source lazily", async () => {
    const server = await start();
    const client = connect(server);
    const dir = await mkdtemp(join(tmpdir(), "winrm-copy-"));
    dirs.push(dir);
    const onDisk = randomBytes(300_000);
    await writeFile(join(dir, "payload.bin"), onDisk);
    const fromPath = await client.copyFile(join(dir, "payload.bin"), "C:\\Temp\\payload.bin");
    expect(fromPath.sha256).toBe(sha256(onDisk));
    expect(server.files.get("C:\\Temp\\payload.bin")?.equals(onDisk), "file content").toBe(true);

    const streamed = randomBytes(700_000);
    const before = server.stats.operations.send;
    const pieces = Readable.from((function* () {
      for (let i = 0; i < streamed.length; i += 1000) yield streamed.subarray(i, i + 1000);
    })());
    const result = await client.copyFile(pieces, "C:\\Temp\\streamed.bin");
    expect(result).toMatchObject({ bytes: streamed.length, sha256: sha256(streamed) });
    expect(server.files.get("C:\\Temp\\streamed.bin")?.equals(streamed), "file content").toBe(true);
    expect(server.stats.operations.send - before).toBeLessThanOrEqual(4);
  });

  it("keeps memory flat: the source is read at most ~2 MB ahead of what the server has consumed, for a 24 MB file", async () => {
    const total = 24 * 1024 * 1024;
    let consumed = 0;
    let produced = 0;
    let maxAhead = 0;
    const handler: WinRMCommandHandler = async (ctx) => {
      const hash = createHash("sha256");
      let pending = "";
      for await (const chunk of ctx.stdin) {
        pending += Buffer.from(chunk as Uint8Array).toString("latin1");
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) {
          const bytes = Buffer.from(line, "base64");
          consumed += bytes.length;
          hash.update(bytes);
        }
      }
      ctx.stdout.write(`sha256:${hash.digest("hex")}\r\n`);
    };
    const server = await start({ handler, allowUnencrypted: true });
    const block = randomBytes(64 * 1024);
    const source = new Readable({
      read() {
        if (produced >= total) return void this.push(null);
        produced += block.length;
        maxAhead = Math.max(maxAhead, produced - consumed);
        this.push(block);
      },
    });
    const result = await connect(server, { auth: "basic", allowUnencrypted: true }).copyFile(source, "C:\\big.bin").catch((e: unknown) => e);
    // The handler discards the data, so only the client's buffering can make `produced` run ahead.
    expect(result).toMatchObject({ bytes: total });
    expect(consumed).toBe(total);
    expect(maxAhead).toBeLessThan(2 * 1024 * 1024);
  }, 60_000);

  it("refuses to replace an existing file unless overwrite is set", async () => {
    const server = await start({ files: [["C:\\app\\config.json", Buffer.from("old")]] });
    const client = connect(server);
    const error = await client.copyFile(Buffer.from("new"), "c:/app/config.json").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMCopyError);
    expect(error).toMatchObject({ exitCode: 1 });
    expect((error as Error).message).toMatch(/already exists.*overwrite: true/s);
    expect(server.files.get("C:\\app\\config.json")?.toString()).toBe("old");
    await client.copyFile(Buffer.from("new"), "c:/app/config.json", { overwrite: true });
    expect(server.files.get("C:\\app\\config.json")?.toString()).toBe("new");
  });

  it("fails when the server's checksum differs from the local one", async () => {
    const server = await start({
      handler: async (ctx) => {
        for await (const _ of ctx.stdin) void _;
        ctx.stdout.write(`sha256:${"0".repeat(64)}\r\n`);
      },
    });
    const error = await connect(server).copyFile(Buffer.from("payload"), "C:\\x.bin").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMCopyError);
    expect((error as Error).message).toContain(`is corrupt: SHA-256 ${"0".repeat(64)} on the server, ${sha256(Buffer.from("payload"))} locally`);
  });

  it("stops on abort, terminates the remote process and deletes the shell; nothing is written", async () => {
    const server = await start({ maxEnvelopeSize: 64 * 1024 });
    const controller = new AbortController();
    const source = Readable.from((function* () {
      for (let i = 0; i < 1000; i++) yield randomBytes(32 * 1024);
    })());
    const promise = connect(server, { maxEnvelopeSizeKb: 64 }).copyFile(source, "C:\\partial.bin", { signal: controller.signal, onProgress: () => controller.abort() });
    await expect(promise).rejects.toMatchObject({ name: "AbortError" });
    expect(server.files.has("C:\\partial.bin")).toBe(false);
    expect(server.stats.operations).toMatchObject({ signal: 1, delete: 1 });
    expect(server.stats.openShells).toBe(0);
  });

  it("fails with the server's fault when the shell disappears in the middle of a copy", async () => {
    const server = await start({ allowUnencrypted: true });
    let deletion: Promise<unknown> | undefined;
    // A bare async generator is pulled only on demand (Readable.from would read 16 chunks ahead).
    const source = (async function* () {
      for (let i = 0; i < 50; i++) {
        // From the fifth chunk on, wait until the shell is really gone, so the next Send must fail.
        if (i >= 4) await deletion;
        yield randomBytes(32 * 1024);
      }
    })();
    const onProgress = (): void => {
      if (deletion) return;
      const [shellId] = server.shellIds();
      deletion = fetch(server.url, {
        method: "POST",
        headers: { Authorization: `Basic ${Buffer.from("alice:pw").toString("base64")}`, "Content-Type": "application/soap+xml;charset=UTF-8" },
        body: deleteShellRequest({ to: server.url, operationTimeoutSec: 5, maxEnvelopeSize: 153600 }, shellId ?? "").xml,
      });
    };
    const error = await connect(server, { maxEnvelopeSizeKb: 64 }).copyFile(source, "C:\\gone.bin", { onProgress }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMFaultError);
    expect(error).toMatchObject({ code: 2150858843 });
    expect(server.files.has("C:\\gone.bin")).toBe(false);
  });

  it("gives up at timeoutSec when the remote side never finishes, leaving no shell", async () => {
    const server = await start({ handler: ({ signal }) => new Promise<number>((resolve) => signal.addEventListener("abort", () => resolve(1))) });
    const error = await connect(server).copyFile(Buffer.from("data"), "C:\\slow.bin", { timeoutSec: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMTimeoutError);
    expect(server.stats.operations).toMatchObject({ send: 1, signal: 1, delete: 1 });
  });

  it("reports an unreadable local file before touching the server", async () => {
    const server = await start();
    const error = await connect(server).copyFile("/nonexistent/file.bin", "C:\\x.bin").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMCopyError);
    expect((error as Error).message).toMatch(/cannot read the local file \/nonexistent\/file\.bin/);
    expect(server.stats.shellsCreated).toBe(0);
  });
});
