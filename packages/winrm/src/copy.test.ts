// copyFile against the test server's copy protocol, over real sockets.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { WinRMClient, WinRMCopyError, WinRMFaultError, WinRMTimeoutError } from "./index.ts";
import { deleteShellRequest } from "./soap.ts";
import type { CopyProgress, WinRMClientOptions } from "./index.ts";
import { COPY_MARKER, COPY_PARTIAL_SUFFIX, defaultCommandHandler, startWinRMTestServer } from "./testing/index.ts";
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
    // ~377 KB of file per Send with the default 500 KB envelope: 3 Sends, not one per small chunk.
    expect(server.stats.operations.send).toBeLessThanOrEqual(5);
    expect(progress.at(-1)).toEqual({ bytesSent: data.length, totalBytes: data.length });
    const sent = progress.map((p) => p.bytesSent);
    expect(sent).toEqual([...sent].sort((a, b) => a - b));
  });

  it("sends a real PowerShell script that reads raw stdin into a temporary file, checks the client's SHA-256, then moves it into place", async () => {
    let script = "";
    let commandLine = "";
    const server = await start({
      handler: async (ctx) => {
        script = ctx.script ?? "";
        commandLine = ctx.commandLine;
        for await (const _ of ctx.stdin) void _;
        ctx.stdout.write(`sha256:${sha256(Buffer.from("x"))}\r\n`);
      },
    });
    await connect(server).copyFile(Buffer.from("x"), "D:\\a'b\\c.txt", { overwrite: true });
    const lines = script.split("\n");
    expect(lines[0]).toBe(COPY_MARKER);
    expect(lines).toContain(`$d=[IO.Path]::GetFullPath([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('${Buffer.from("D:\\a'b\\c.txt").toString("base64")}')))`);
    expect(lines).toContain("$w=$true");
    expect(script).toContain("[IO.Directory]::CreateDirectory($p)");
    // Bytes, not text: [Console]::In would decode them in the console's code page.
    expect(script).toContain("[Console]::OpenStandardInput()");
    expect(script).not.toContain("[Console]::In");
    expect(script).not.toContain("FromBase64String($line)");
    expect(script).toContain("TransformBlock");
    expect(script).toContain(`$t=$d+'${COPY_PARTIAL_SUFFIX}'`);
    expect(script).toContain("if($m -ne $c){throw");
    expect(script).toContain("[IO.File]::Move($t,$d)");
    expect(script).toMatch(/finally\{\$f\.Dispose\(\);if\(!\$k\)\{Remove-Item -LiteralPath \$t/);
    // The destination travels as base64, so no quote in a path can break out of the script.
    expect(script).not.toContain("a'b");
    // The script is on the command line (stdin is the file's alone), within cmd.exe's 8191 characters.
    expect(commandLine.length).toBeLessThan(8191);
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
      // Reads the frames the copy script reads, hashing the file bytes and discarding them.
      const hash = createHash("sha256");
      let pending = Buffer.alloc(0);
      for await (const chunk of ctx.stdin) {
        pending = Buffer.concat([pending, chunk as Buffer]);
        for (;;) {
          if (pending.length < 4) break;
          const length = pending.readUInt32LE(0);
          if (length === 0 || pending.length < 4 + length) break;
          hash.update(pending.subarray(4, 4 + length));
          consumed += length;
          pending = pending.subarray(4 + length);
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

  it("keeps its connection while it sends; a command started meanwhile on the same client runs after the last Send, over the same NTLM context", async () => {
    let sendsBeforeCommand: number | undefined;
    const server: WinRMTestServer = await start({
      handler: (ctx) => {
        if (ctx.commandLine === "echo meanwhile") sendsBeforeCommand = server.stats.operations.send;
        return defaultCommandHandler(ctx);
      },
    });
    const client = connect(server);
    await client.runCmd("echo warm");
    const data = randomBytes(3 * 1024 * 1024);
    let meanwhile: Promise<{ stdout: string }> | undefined;
    // Started once the copy's first Send is through, i.e. while the copy holds the connection.
    const copying = client.copyFile(data, "C:\\held.bin", { onProgress: () => void (meanwhile ??= client.runCmd("echo meanwhile")) });
    expect((await copying).sha256).toBe(sha256(data));
    expect(server.files.get("C:\\held.bin")?.equals(data)).toBe(true);
    expect((await meanwhile)?.stdout.trim()).toBe("meanwhile");
    // 3 MiB in ~377 KB Sends: the command's requests waited for all of them.
    expect(server.stats.operations.send).toBeGreaterThanOrEqual(8);
    expect(sendsBeforeCommand).toBe(server.stats.operations.send);
    expect(client.stats).toMatchObject({ connections: 1, authentications: 1 });
  });

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

  it("refuses a remote path too long for the copy script's command line before touching the server, and takes any 260-character one", async () => {
    const server = await start();
    const client = connect(server);
    const error = await client.copyFile(Buffer.from("x"), `C:\\${"deep\\".repeat(600)}x.bin`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMCopyError);
    expect((error as Error).message).toMatch(/remote path is too long for the copy script's command line \(\d+ characters; cmd\.exe allows 8191\)/);
    expect(server.stats.shellsCreated).toBe(0);
    // MAX_PATH of three-byte UTF-8 characters, the longest a path of 260 UTF-16 units gets.
    const wide = `C:\\${"中".repeat(252)}.bin`;
    expect(wide).toHaveLength(259);
    await client.copyFile(Buffer.from("y"), wide);
    expect(server.files.get(wide)?.toString()).toBe("y");
  });

  it("reports an unreadable local file before touching the server", async () => {
    const server = await start();
    const error = await connect(server).copyFile("/nonexistent/file.bin", "C:\\x.bin").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMCopyError);
    expect((error as Error).message).toMatch(/cannot read the local file \/nonexistent\/file\.bin/);
    expect(server.stats.shellsCreated).toBe(0);
  });
});

// With maxEnvelopeSizeKb 32 a Send carries 18,432 bytes of stdin: one frame of 18,392 file bytes,
// room for the 4-byte length and, in the last Send, the end frame and the 32-byte digest.
const SMALL_ENVELOPE_KB = 32;
const FRAME = 18_392;

/** Every byte value first, then random bytes. */
function binary(size: number): Buffer {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  return Buffer.concat([all, randomBytes(Math.max(0, size - 256))]).subarray(0, size);
}

/** A Readable of irregular pieces, so frames must be assembled across chunks. */
function pieces(data: Buffer): Readable {
  const sizes = [1, 7, 1000, 4096, 333, 65_536];
  return Readable.from(
    (function* () {
      for (let at = 0, i = 0; at < data.length; i++) {
        const size = sizes[i % sizes.length] as number;
        yield data.subarray(at, at + size);
        at += size;
      }
    })(),
  );
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "winrm-copy-"));
  dirs.push(dir);
  return dir;
}

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

describe("copyFile: the file's bytes once, as they are", () => {
  it("writes the file's bytes to stdin unencoded, in length-prefixed frames, the client's SHA-256 after the end frame", async () => {
    let stdin = Buffer.alloc(0);
    const server = await start({
      handler: (ctx) => {
        const seen = new PassThrough();
        ctx.stdin.on("data", (chunk: Buffer) => (stdin = Buffer.concat([stdin, chunk])));
        ctx.stdin.pipe(seen);
        return defaultCommandHandler({ ...ctx, stdin: seen });
      },
    });
    const data = binary(2 * FRAME + 5);
    const result = await connect(server, { maxEnvelopeSizeKb: SMALL_ENVELOPE_KB }).copyFile(data, "C:\\wire.bin");
    const frame = (bytes: Buffer): Buffer => Buffer.concat([Buffer.from(Uint32Array.of(bytes.length).buffer), bytes]);
    const expected = Buffer.concat([
      frame(data.subarray(0, FRAME)),
      frame(data.subarray(FRAME, 2 * FRAME)),
      frame(data.subarray(2 * FRAME)),
      Buffer.alloc(4),
      createHash("sha256").update(data).digest(),
    ]);
    expect(stdin.equals(expected), "stdin is exactly the framed bytes").toBe(true);
    expect(server.stats.operations.send).toBe(3);
    expect(result).toEqual({ remotePath: "C:\\wire.bin", bytes: data.length, sha256: sha256(data) });
    expect(server.files.get("C:\\wire.bin")?.equals(data), "file content").toBe(true);
  });

  it("arrives bit-exact around frame boundaries and when empty, from a Buffer or from irregular chunks", async () => {
    const server = await start();
    const client = connect(server, { maxEnvelopeSizeKb: SMALL_ENVELOPE_KB });
    for (const size of [0, 1, 255, 256, FRAME - 1, FRAME, FRAME + 1, 2 * FRAME, 2 * FRAME + 1]) {
      const data = binary(size);
      for (const [label, source] of [
        ["buffer", data],
        ["chunks", pieces(data)],
      ] as const) {
        const path = `C:\\sizes\\${size}-${label}.bin`;
        const sends = server.stats.operations.send;
        const result = await client.copyFile(source, path);
        expect(result, `${size} bytes from a ${label}`).toEqual({ remotePath: path, bytes: size, sha256: sha256(data) });
        expect(server.files.get(path)?.equals(data), `${size} bytes from a ${label}: content`).toBe(true);
        // One Send per frame; the end frame and digest ride in the last one, also for an empty file.
        expect(server.stats.operations.send - sends, `${size} bytes from a ${label}: Sends`).toBe(Math.max(1, Math.ceil(size / FRAME)));
      }
    }
    expect([...server.files.keys()].filter((k) => k.endsWith(COPY_PARTIAL_SUFFIX))).toEqual([]);
  });

  it("streams to disk with fileRoot: the file lands at its path under the folder, nothing else is left", async () => {
    const root = await tempDir();
    const server = await start({ fileRoot: root });
    const data = binary(3 * FRAME + 11);
    await connect(server, { maxEnvelopeSizeKb: SMALL_ENVELOPE_KB }).copyFile(pieces(data), "C:\\Deploy\\app.bin");
    expect((await readFile(join(root, "C", "Deploy", "app.bin"))).equals(data), "file on disk").toBe(true);
    expect(await filesUnder(root)).toEqual([join("C", "Deploy", "app.bin")]);
    expect(server.files.size).toBe(0);
  });

  it("refuses bytes that changed on the way: the server's SHA-256 differs, so it removes its file and leaves the destination as it was", async () => {
    const server = await start({
      files: [["C:\\app\\tool.exe", Buffer.from("old")]],
      // One flipped bit in the stdin the copy script reads, past the first frame's length.
      handler: (ctx) => {
        let at = 0;
        const flipped = new PassThrough();
        ctx.stdin.on("data", (chunk: Buffer) => {
          if (at <= 100 && at + chunk.length > 100) chunk[100 - at] = (chunk[100 - at] as number) ^ 0x01;
          at += chunk.length;
          flipped.write(chunk);
        });
        ctx.stdin.on("end", () => flipped.end());
        return defaultCommandHandler({ ...ctx, stdin: flipped });
      },
    });
    const data = binary(50_000);
    const error = await connect(server).copyFile(data, "C:\\app\\tool.exe", { overwrite: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinRMCopyError);
    expect(error).toMatchObject({ exitCode: 1 });
    expect((error as Error).message).toContain(`is corrupt: the server's SHA-256 of the bytes it wrote differs from the local ${sha256(data)}`);
    expect((error as Error).message).toContain("left C:\\app\\tool.exe as it was");
    expect(server.files.get("C:\\app\\tool.exe")?.toString()).toBe("old");
    expect([...server.files.keys()]).toEqual(["C:\\app\\tool.exe"]);
  });

  it("cancelling mid-copy ends stdin before terminating, so the script removes its partial file; no shell is left", async () => {
    const root = await tempDir();
    const server = await start({ fileRoot: root });
    const controller = new AbortController();
    let sent = 0;
    const source = pieces(binary(20 * FRAME));
    const promise = connect(server, { maxEnvelopeSizeKb: SMALL_ENVELOPE_KB }).copyFile(source, "C:\\Deploy\\big.bin", {
      signal: controller.signal,
      onProgress: (p) => {
        sent = p.bytesSent;
        if (p.bytesSent >= 3 * FRAME) controller.abort();
      },
    });
    await expect(promise).rejects.toMatchObject({ name: "AbortError" });
    expect(sent).toBe(3 * FRAME);
    // The partial file existed (the folder holding it was made) and is gone again.
    expect(await readdir(join(root, "C", "Deploy"))).toEqual([]);
    expect(server.stats.runningCommands).toBe(0);
    expect(server.stats.operations).toMatchObject({ send: 4, signal: 1, delete: 1 });
  });

  it("a deadline passing mid-copy, or a source failing mid-copy, also leaves no partial file", async () => {
    const server = await start();
    const client = connect(server, { maxEnvelopeSizeKb: SMALL_ENVELOPE_KB });
    const slow = (async function* () {
      for (let i = 0; i < 100; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        yield randomBytes(FRAME);
      }
    })();
    const late = await client.copyFile(slow, "C:\\late.bin", { timeoutSec: 1 }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(WinRMTimeoutError);

    const broken = new Readable({
      read() {
        this.push(randomBytes(FRAME));
        if (this.readableLength > 2 * FRAME) this.destroy(new Error("disk read error"));
      },
    });
    const failed = await client.copyFile(broken, "C:\\broken.bin").catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(WinRMCopyError);
    expect((failed as Error).message).toContain("reading the copy source failed: disk read error");
    expect([...server.files.keys()]).toEqual([]);
    expect(server.stats.runningCommands).toBe(0);
  });
});
