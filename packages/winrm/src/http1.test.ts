// The client's HTTP/1.1 connection against a raw TCP server that answers with hand-written bytes.
import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HttpConnection, HttpRequestError } from "./http1.ts";

interface Received {
  head: string;
  body: Buffer;
}

let servers: net.Server[] = [];
let connections: HttpConnection[] = [];

afterEach(async () => {
  for (const c of connections) c.destroy();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  [servers, connections] = [[], []];
});

/** A server that reads each request (by Content-Length) and lets `answer` write raw bytes to the socket. */
async function rawServer(answer: (socket: net.Socket, request: Received, index: number) => void): Promise<{ port: number; requests: Received[]; sockets: net.Socket[] }> {
  const requests: Received[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    let buffer = Buffer.alloc(0);
    socket.on("data", (data) => {
      buffer = Buffer.concat([buffer, data]);
      for (;;) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buffer.toString("latin1", 0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        const request = { head, body: buffer.subarray(end + 4, end + 4 + length) };
        buffer = buffer.subarray(end + 4 + length);
        requests.push(request);
        answer(socket, request, requests.length - 1);
      }
    });
    socket.on("error", () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, requests, sockets };
}

function connection(port: number): HttpConnection {
  const c = new HttpConnection({ host: "127.0.0.1", port, connectTimeoutMs: 5000 });
  connections.push(c);
  return c;
}

const opts = { timeoutMs: 5000, maxResponseBytes: 1024 * 1024 };
const post = (c: HttpConnection, body = "hello") => c.request("/wsman", { "Content-Type": "text/plain" }, Buffer.from(body), opts);

// Writes `text` one byte per TCP segment, so every parser state sees a boundary.
function dribble(socket: net.Socket, text: string): void {
  socket.setNoDelay(true);
  const bytes = Buffer.from(text, "latin1");
  let i = 0;
  const next = (): void => {
    if (i >= bytes.length || socket.destroyed) return;
    socket.write(bytes.subarray(i, i + 1));
    i++;
    setImmediate(next);
  };
  next();
}

describe("HttpConnection", () => {
  it("sends a POST with Host, Content-Length and keep-alive, and reuses the socket for the next request", async () => {
    const server = await rawServer((socket, _req, i) => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 6\r\nContent-Type: a/b\r\n\r\nreply${i}`));
    const c = connection(server.port);
    let opened = 0;
    c.onConnect = () => opened++;
    const first = await post(c, "one");
    const second = await post(c, "two");
    expect([first.status, first.body.toString(), second.body.toString()]).toEqual([200, "reply0", "reply1"]);
    expect(first.headers["content-type"]).toBe("a/b");
    expect(first.socket).toBe(second.socket);
    expect(opened).toBe(1);
    expect(server.requests.map((r) => r.body.toString())).toEqual(["one", "two"]);
    expect(server.requests[0]?.head).toMatch(new RegExp(`^POST /wsman HTTP/1\\.1\\r\\nHost: 127\\.0\\.0\\.1:${server.port}\\r\\n`));
    expect(server.requests[0]?.head).toContain("Content-Length: 3\r\nConnection: keep-alive");
  });

  it("reads chunked bodies with extensions and trailers, a 100 Continue first, and repeated headers joined, whatever the segment boundaries", async () => {
    const server = await rawServer((socket) =>
      dribble(
        socket,
        "HTTP/1.1 100 Continue\r\n\r\n" +
          "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate abc\r\nWWW-Authenticate: Basic realm=\"WSMAN\"\r\nTransfer-Encoding: chunked\r\n\r\n" +
          "5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n",
      ),
    );
    const c = connection(server.port);
    const response = await post(c);
    expect(response.status).toBe(401);
    expect(response.headers["www-authenticate"]).toBe('Negotiate abc, Basic realm="WSMAN"');
    expect(response.body.toString()).toBe("hello world");
    // The socket stays usable after a chunked response.
    const again = await post(c);
    expect(again.socket).toBe(response.socket);
  });

  it("opens a new socket after Connection: close, after an HTTP/1.0 body that ends with the connection, and after the server closed an idle one", async () => {
    const server = await rawServer((socket, _req, i) => {
      if (i === 0) socket.end("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nc0");
      else if (i === 1) socket.end("HTTP/1.0 200 OK\r\n\r\nuntil the end");
      // A keep-alive answer, then the server closes the idle socket (as after Windows' idle timeout).
      else if (i === 2) socket.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nk2");
      else socket.write("HTTP/1.1 204 No Content\r\n\r\n");
    });
    const c = connection(server.port);
    let opened = 0;
    c.onConnect = () => opened++;
    expect((await post(c)).body.toString()).toBe("c0");
    expect((await post(c)).body.toString()).toBe("until the end");
    expect((await post(c)).body.toString()).toBe("k2");
    await vi.waitFor(() => expect(c.socket).toBeUndefined());
    const last = await post(c);
    expect([last.status, last.body.length]).toEqual([204, 0]);
    expect(opened).toBe(4);
  });

  it("marks a reset before any answer as retryable only on a reused socket", async () => {
    const server = await rawServer((socket, _req, i) => {
      if (i === 0) socket.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
      else socket.resetAndDestroy();
    });
    const c = connection(server.port);
    await post(c);
    const reused = await post(c).catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(HttpRequestError);
    expect(reused).toMatchObject({ kind: "socket", retryable: true });
    const fresh = await post(c).catch((e: unknown) => e);
    expect(fresh).toMatchObject({ kind: "socket", retryable: false });
  });

  it("fails clearly on a timeout, an oversized body, a cut body and a non-HTTP answer, and aborts on its signal", async () => {
    const server = await rawServer((socket, request) => {
      const what = request.body.toString();
      if (what === "large") socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`);
      else if (what === "endless") {
        socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        const chunk = `10000\r\n${"a".repeat(0x10000)}\r\n`;
        const pump = (): void => {
          while (!socket.destroyed && socket.write(chunk));
          if (!socket.destroyed) socket.once("drain", pump);
        };
        pump();
      } else if (what === "cut") socket.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
      else if (what === "garbage") socket.write("SSH-2.0-OpenSSH_9.2\r\n\r\n");
      // "silent" and "abort" get no answer.
    });
    const c = connection(server.port);
    const fail = (body: string, extra: Partial<typeof opts> & { signal?: AbortSignal } = {}) =>
      c.request("/wsman", {}, Buffer.from(body), { ...opts, ...extra }).catch((e: unknown) => e);
    expect(await fail("silent", { timeoutMs: 200 })).toMatchObject({ kind: "timeout" });
    expect(await fail("large")).toMatchObject({ kind: "too-large" });
    expect(await fail("endless")).toMatchObject({ kind: "too-large" });
    expect(await fail("cut")).toMatchObject({ kind: "socket", code: "ECONNRESET" });
    expect(await fail("garbage")).toMatchObject({ kind: "protocol" });
    const controller = new AbortController();
    const aborted = fail("abort", { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("stop")), 50);
    expect(await aborted).toMatchObject({ message: "stop" });
    // Every failure dropped its socket: none of them is left open on the server's side.
    await vi.waitFor(() => expect(server.sockets.filter((s) => !s.destroyed && !s.readableEnded)).toEqual([]));
  });
});
