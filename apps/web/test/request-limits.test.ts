// Request bodies are bounded by the bytes that arrive, not by what the client declares.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { connect } from "node:net";
import { startApp } from "@opsconductor/testing/web";
import { describe, expect, test } from "vitest";

const app = await startApp();
const port = Number(new URL(app.url).port);

/** The pid of the process listening on `port` of 127.0.0.1 (the web server the harness started). */
function listenerPid(): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const inode = readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .find((cols) => cols[1] === `0100007F:${hexPort}` && cols[3] === "0A")?.[9];
  if (!inode) throw new Error(`nothing listens on 127.0.0.1:${port}`);
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return Number(pid);
      } catch {
        // the descriptor closed while we looked
      }
    }
  }
  throw new Error(`no process owns the socket of port ${port}`);
}

const rssBytes = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;

/**
 * Sends `path` a chunked body of up to `maxBytes` over a raw socket, as fast as the server takes it,
 * and stops as soon as an answer arrives; returns the answer and how many body bytes went out.
 */
function sendChunked(path: string, headers: Record<string, string>, maxBytes: number, payload?: Buffer): Promise<{ status: number; head: string; body: string; sent: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let sent = 0;
    let answer = "";
    let finished = false;
    const chunk = Buffer.alloc(64 * 1024, "a");
    const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]);
    const finish = () => {
      if (finished) return;
      finished = true;
      socket.destroy();
      const [head = "", body = ""] = answer.split("\r\n\r\n", 2);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      if (!status) reject(new Error(`no HTTP answer after ${sent} bytes: ${JSON.stringify(answer.slice(0, 200))}`));
      else resolve({ status, head, body: decodeChunked(head, body), sent });
    };
    const pump = () => {
      while (!finished && answer === "" && sent < maxBytes) {
        sent += chunk.length;
        if (!socket.write(frame)) return void socket.once("drain", pump);
      }
      if (!finished && answer === "" && sent >= maxBytes) socket.write("0\r\n\r\n");
    };
    socket.on("data", (d) => {
      answer += d.toString("latin1");
      const [head, body] = answer.split("\r\n\r\n", 2);
      if (body === undefined) return;
      const length = /content-length: (\d+)/i.exec(head!)?.[1];
      if ((length && Buffer.byteLength(body, "latin1") >= Number(length)) || body.endsWith("0\r\n\r\n")) finish();
    });
    socket.on("close", finish);
    socket.on("error", () => finish());
    socket.on("connect", () => {
      const lines = [`POST ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, "Transfer-Encoding: chunked", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (payload) socket.write(Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from("\r\n0\r\n\r\n")]));
      else pump();
    });
  });
}

function decodeChunked(head: string, body: string): string {
  if (!/transfer-encoding: chunked/i.test(head)) return body;
  let out = "";
  let rest = body;
  for (;;) {
    const eol = rest.indexOf("\r\n");
    const size = parseInt(rest.slice(0, eol), 16);
    if (!size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

const MiB = 1024 * 1024;

describe("chunked bodies past the limit", () => {
  test("an unauthenticated chunked POST /api/login of 64 MiB gets a 413 after about 1 MiB, and the server's memory stays flat", { timeout: 60_000 }, async () => {
    // Warm up: the dev server compiles the route modules on first use.
    expect((await app.request("POST", "/api/login", { body: { username: "nobody", password: "x" } })).status).toBe(401);
    const pid = listenerPid();
    const before = rssBytes(pid);
    const res = await sendChunked("/api/login", { "Content-Type": "application/json" }, 64 * MiB);
    const after = rssBytes(pid);
    expect(res.status).toBe(413);
    // The client got its answer long before it could push 64 MiB; what it sent beyond 1 MiB sat in socket buffers.
    expect(res.sent).toBeLessThan(8 * MiB);
    expect(after - before).toBeLessThan(32 * MiB);
    expect(JSON.parse(res.body)).toEqual({ error: { code: "payload_too_large", message: "the request body may be at most 1048576 bytes" } });
    expect(res.head).toMatch(/connection: close/i);
  });

  test("the sign-in and sign-out forms stop reading at 64 KiB", { timeout: 60_000 }, async () => {
    const login = await sendChunked("/login", { "Content-Type": "application/x-www-form-urlencoded" }, 32 * MiB);
    expect(login.status).toBe(413);
    expect(login.sent).toBeLessThan(8 * MiB);
    const logout = await sendChunked("/logout", { "Content-Type": "application/x-www-form-urlencoded" }, 32 * MiB);
    expect(logout.status).toBe(413);
    expect(logout.body).toMatch(/at most 65536 bytes/);
    expect(logout.sent).toBeLessThan(8 * MiB);
  });

  test("a chunked body under the limit is read whole, and an honest Content-Length over it is refused", async () => {
    const small = await sendChunked("/api/login", { "Content-Type": "application/json" }, 0, Buffer.from(JSON.stringify({ username: "viewer", password: "viewer-password-1" })));
    expect(small.status).toBe(200);
    const big = await app.request("POST", "/api/login", { body: { username: "x", password: "y".repeat(2 * MiB) } });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe("payload_too_large");
  });
});
