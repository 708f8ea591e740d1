// A minimal HTTP/1.1 client for one keep-alive connection carrying one request at a time, which is
// all WS-Management needs. node:http costs about 90 µs of CPU per request on top of this (its
// agent, ClientRequest and IncomingMessage objects, header bookkeeping, stream events), measured
// here at a third of the client's work for a small WinRM request.
import net from "node:net";
import type { LookupFunction, Socket } from "node:net";
import tls from "node:tls";

/** Where and how a connection connects. */
export interface HttpEndpoint {
  host: string;
  port: number;
  /** TLS settings for https; absent for plain http. */
  tls?: { ca?: string | Buffer | (string | Buffer)[]; rejectUnauthorized: boolean };
  lookup?: LookupFunction;
  connectTimeoutMs: number;
}

/** A response, its body complete. */
export interface HttpResponse {
  status: number;
  /** Header names in lower case; repeated headers joined with ", " (set-cookie as a list), as node:http does. */
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** The socket that carried it (for TLS, the peer certificate). */
  socket: Socket;
}

/** What went wrong with a request, for the caller to word. */
export class HttpRequestError extends Error {
  /** "connect-timeout", "timeout", "too-large", "socket" (a Node error in cause, with its code) or "protocol". */
  readonly kind: "connect-timeout" | "timeout" | "too-large" | "socket" | "protocol";
  readonly code: string | undefined;
  /** True when nothing of a response had arrived on a kept-alive socket: the request may be sent again. */
  readonly retryable: boolean;

  constructor(kind: HttpRequestError["kind"], message: string, opts: { code?: string; retryable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.kind = kind;
    this.code = opts.code;
    this.retryable = opts.retryable ?? false;
  }
}

const MAX_HEAD = 64 * 1024;
const CRLF2 = Buffer.from("\r\n\r\n", "latin1");

interface Exchange {
  resolve(response: HttpResponse): void;
  reject(error: unknown): void;
  maxResponseBytes: number;
  reused: boolean;
  received: number;
}

/** One keep-alive connection: request() one at a time; a new socket is opened when the last one is gone. */
export class HttpConnection {
  readonly #endpoint: HttpEndpoint;
  #socket: Socket | undefined;
  #exchange: Exchange | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  // Response parsing state.
  #head: { status: number; headers: Record<string, string | string[]>; keepAlive: boolean } | undefined;
  #length = -1;
  #chunked = false;
  #body: Buffer[] = [];
  #bodyLength = 0;
  #chunkLeft = -1;
  #untilClose = false;
  /** Called with each socket this connection opens. */
  onConnect: ((socket: Socket) => void) | undefined;

  constructor(endpoint: HttpEndpoint) {
    this.#endpoint = endpoint;
  }

  /** The current socket, if one is open. */
  get socket(): Socket | undefined {
    return this.#socket;
  }

  /** Closes the socket; a request in flight fails. */
  destroy(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  /** Sends one request and resolves with the complete response. */
  request(path: string, headers: Record<string, string>, body: Buffer, opts: { timeoutMs: number; signal?: AbortSignal; maxResponseBytes: number }): Promise<HttpResponse> {
    if (this.#exchange) return Promise.reject(new Error("HttpConnection carries one request at a time"));
    const { signal } = opts;
    return new Promise<HttpResponse>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      if (this.#socket?.destroyed) this.#socket = undefined;
      const reused = this.#socket !== undefined;
      const socket = this.#socket ?? this.#connect();
      let settled = false;
      const done = (error: unknown, response?: HttpResponse): void => {
        if (settled) return;
        settled = true;
        this.#exchange = undefined;
        socket.setTimeout(0);
        signal?.removeEventListener("abort", onAbort);
        if (error === undefined) resolve(response as HttpResponse);
        else {
          // Whatever was half-read belongs to nobody now.
          this.destroy();
          reject(error);
        }
      };
      const onAbort = (): void => done(signal?.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#reset();
      this.#exchange = { resolve: (r) => done(undefined, r), reject: (e) => done(e), maxResponseBytes: opts.maxResponseBytes, reused, received: 0 };
      socket.setTimeout(opts.timeoutMs);
      let head = `POST ${path} HTTP/1.1\r\nHost: ${hostHeader(this.#endpoint)}\r\n`;
      for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
      head += `Content-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n`;
      socket.cork();
      socket.write(head, "latin1");
      if (body.length > 0) socket.write(body);
      socket.uncork();
    });
  }

  #connect(): Socket {
    const { host, port, lookup, connectTimeoutMs } = this.#endpoint;
    const common = { host, port, ...(lookup ? { lookup } : {}) };
    const socket = this.#endpoint.tls
      ? tls.connect({
          ...common,
          ...(net.isIP(host) ? {} : { servername: host }),
          ...(this.#endpoint.tls.ca !== undefined ? { ca: this.#endpoint.tls.ca } : {}),
          rejectUnauthorized: this.#endpoint.tls.rejectUnauthorized,
        })
      : net.connect(common);
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    const timer = setTimeout(() => {
      socket.destroy(Object.assign(new Error("connect timeout"), { code: "ECONNECT_TIMEOUT" }));
    }, connectTimeoutMs);
    socket.once(this.#endpoint.tls ? "secureConnect" : "connect", () => clearTimeout(timer));
    socket.on("data", (data: Buffer) => this.#onData(socket, data));
    socket.on("timeout", () => {
      const exchange = this.#exchange;
      if (exchange && this.#socket === socket) exchange.reject(new HttpRequestError("timeout", "no response in time"));
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      this.#fail(socket, error);
    });
    socket.on("end", () => this.#onEnd(socket));
    socket.on("close", () => {
      clearTimeout(timer);
      this.#fail(socket, Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    });
    this.onConnect?.(socket);
    return socket;
  }

  #fail(socket: Socket, error: NodeJS.ErrnoException): void {
    if (this.#socket !== socket) return;
    this.#socket = undefined;
    const exchange = this.#exchange;
    if (!exchange) return;
    if (error.code === "ECONNECT_TIMEOUT") {
      exchange.reject(new HttpRequestError("connect-timeout", error.message, { code: error.code, cause: error }));
      return;
    }
    const retryable = exchange.reused && exchange.received === 0 && (error.code === "ECONNRESET" || error.code === "EPIPE");
    exchange.reject(new HttpRequestError("socket", error.message, { ...(error.code ? { code: error.code } : {}), retryable, cause: error }));
  }

  #onEnd(socket: Socket): void {
    if (this.#socket !== socket) return;
    // A body that runs until the server closes the connection ends here.
    if (this.#exchange && this.#head && this.#untilClose) {
      this.#complete(socket, false);
      return;
    }
    // The server closed its side (an idle keep-alive timeout, or mid-request: then "close" reports it).
    socket.destroy();
  }

  #reset(): void {
    this.#buffer = Buffer.alloc(0);
    this.#head = undefined;
    this.#length = -1;
    this.#chunked = false;
    this.#body = [];
    this.#bodyLength = 0;
    this.#chunkLeft = -1;
    this.#untilClose = false;
  }

  #onData(socket: Socket, data: Buffer): void {
    const exchange = this.#exchange;
    if (this.#socket !== socket) return;
    // Bytes nobody asked for (a server speaking out of turn): this socket cannot be trusted any more.
    if (!exchange) {
      this.destroy();
      return;
    }
    exchange.received += data.length;
    this.#buffer = this.#buffer.length === 0 ? data : Buffer.concat([this.#buffer, data]);
    try {
      this.#parse(socket, exchange);
    } catch (error) {
      exchange.reject(error);
    }
  }

  #parse(socket: Socket, exchange: Exchange): void {
    for (;;) {
      if (!this.#head) {
        const end = this.#buffer.indexOf(CRLF2);
        if (end < 0) {
          if (this.#buffer.length > MAX_HEAD) throw new HttpRequestError("protocol", "the response headers are too large");
          return;
        }
        const head = parseHead(this.#buffer.toString("latin1", 0, end));
        this.#buffer = this.#buffer.subarray(end + 4);
        // 1xx answers (100 Continue) precede the real one.
        if (head.status >= 100 && head.status < 200) continue;
        this.#head = head;
        const encoding = String(head.headers["transfer-encoding"] ?? "").toLowerCase();
        const length = head.headers["content-length"];
        if (encoding.includes("chunked")) this.#chunked = true;
        else if (length !== undefined) {
          const n = Number(length);
          if (!/^\d+$/.test(String(length))) throw new HttpRequestError("protocol", `invalid Content-Length ${JSON.stringify(length)}`);
          if (n > exchange.maxResponseBytes) throw new HttpRequestError("too-large", "response too large");
          this.#length = n;
        } else if (head.status === 204 || head.status === 304) this.#length = 0;
        else this.#untilClose = true;
      }
      if (this.#chunked) {
        if (!this.#readChunks(exchange)) return;
      } else if (this.#length >= 0) {
        const take = Math.min(this.#length - this.#bodyLength, this.#buffer.length);
        if (take > 0) this.#append(this.#buffer.subarray(0, take), exchange);
        this.#buffer = this.#buffer.subarray(take);
        if (this.#bodyLength < this.#length) return;
      } else {
        if (this.#buffer.length > 0) this.#append(this.#buffer, exchange);
        this.#buffer = Buffer.alloc(0);
        return;
      }
      this.#complete(socket, this.#head.keepAlive && this.#buffer.length === 0);
      return;
    }
  }

  // Returns true once the last chunk and the trailer have been read.
  #readChunks(exchange: Exchange): boolean {
    for (;;) {
      if (this.#chunkLeft < 0) {
        const eol = this.#buffer.indexOf("\r\n", 0, "latin1");
        if (eol < 0) return false;
        const size = Number.parseInt(this.#buffer.toString("latin1", 0, eol).split(";", 1)[0]?.trim() ?? "", 16);
        if (!Number.isFinite(size) || size < 0) throw new HttpRequestError("protocol", "malformed chunked encoding");
        this.#buffer = this.#buffer.subarray(eol + 2);
        if (size === 0) {
          // The trailer: header lines, then an empty line.
          const end = this.#buffer.indexOf("\r\n", 0, "latin1");
          if (end === 0) {
            this.#buffer = this.#buffer.subarray(2);
            return true;
          }
          const trailerEnd = this.#buffer.indexOf(CRLF2);
          if (trailerEnd < 0) {
            this.#buffer = Buffer.concat([Buffer.from("0\r\n", "latin1"), this.#buffer]);
            return false;
          }
          this.#buffer = this.#buffer.subarray(trailerEnd + 4);
          return true;
        }
        this.#chunkLeft = size;
      }
      const take = Math.min(this.#chunkLeft, this.#buffer.length);
      if (take > 0) this.#append(this.#buffer.subarray(0, take), exchange);
      this.#buffer = this.#buffer.subarray(take);
      this.#chunkLeft -= take;
      if (this.#chunkLeft > 0) return false;
      if (this.#buffer.length < 2) return false;
      this.#buffer = this.#buffer.subarray(2);
      this.#chunkLeft = -1;
    }
  }

  #append(data: Buffer, exchange: Exchange): void {
    this.#bodyLength += data.length;
    if (this.#bodyLength > exchange.maxResponseBytes) throw new HttpRequestError("too-large", "response too large");
    this.#body.push(data);
  }

  #complete(socket: Socket, keepAlive: boolean): void {
    const exchange = this.#exchange;
    const head = this.#head;
    if (!exchange || !head) return;
    const body = this.#body.length === 1 ? (this.#body[0] as Buffer) : Buffer.concat(this.#body, this.#bodyLength);
    this.#reset();
    // A server that answered before reading the whole request would find the rest glued to the next
    // one; dropping the socket also drops the unsent rest, so the caller may reuse the body's memory.
    if (!keepAlive || socket.writableLength > 0) {
      this.#socket = undefined;
      socket.destroy();
    }
    exchange.resolve({ status: head.status, headers: head.headers, body, socket });
  }
}

function hostHeader(endpoint: HttpEndpoint): string {
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  const standard = endpoint.tls ? 443 : 80;
  return endpoint.port === standard ? host : `${host}:${endpoint.port}`;
}

// Headers node:http keeps only once (the first wins), as it does with duplicates of these.
const SINGLE = new Set(["content-type", "content-length", "user-agent", "referer", "host", "authorization", "proxy-authorization", "if-modified-since", "if-unmodified-since", "from", "location", "max-forwards", "retry-after", "etag", "last-modified", "server", "age", "expires"]);

function parseHead(text: string): { status: number; headers: Record<string, string | string[]>; keepAlive: boolean } {
  let eol = text.indexOf("\r\n");
  if (eol < 0) eol = text.length;
  // "HTTP/1.1 200 OK": the version's minor digit at 7, the status at 9..12.
  const minor = text[7];
  const status = Number(text.slice(9, 12));
  if (!text.startsWith("HTTP/1.") || (minor !== "0" && minor !== "1") || text[8] !== " " || !/^\d{3}$/.test(text.slice(9, 12)) || (eol > 12 && text[12] !== " ")) {
    throw new HttpRequestError("protocol", `not an HTTP/1.x response: ${JSON.stringify(text.slice(0, Math.min(eol, 80)))}`);
  }
  const headers: Record<string, string | string[]> = {};
  for (let at = eol + 2; at < text.length; ) {
    let end = text.indexOf("\r\n", at);
    if (end < 0) end = text.length;
    const colon = text.indexOf(":", at);
    if (colon <= at || colon > end) throw new HttpRequestError("protocol", `malformed response header ${JSON.stringify(text.slice(at, Math.min(end, at + 80)))}`);
    const name = text.slice(at, colon).trim().toLowerCase();
    const value = text.slice(colon + 1, end).trim();
    at = end + 2;
    const previous = headers[name];
    if (name === "set-cookie") headers[name] = [...((previous as string[] | undefined) ?? []), value];
    else if (previous === undefined) headers[name] = value;
    else if (!SINGLE.has(name)) headers[name] = `${previous as string}, ${value}`;
  }
  const connection = String(headers.connection ?? "").toLowerCase();
  const keepAlive = minor === "1" ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
  return { status, headers, keepAlive };
}
