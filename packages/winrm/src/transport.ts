// HTTP(S) transport for WS-Management: a small pool of keep-alive connections, each carrying its own
// authentication state, because an NTLM context (and its sealing keys) is bound to one TCP connection.
import type { LookupFunction, Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import {
  channelBindingsHash,
  createAuthenticateMessage,
  createNegotiateMessage,
  decryptWinRMBody,
  encryptWinRMBody,
  isEncryptedContentType,
  parseChallengeMessage,
} from "./ntlm/index.ts";
import type { NtlmSession } from "./ntlm/index.ts";
import { BufferPool } from "./buffers.ts";
import { WinRMAuthError, WinRMError, WinRMHttpError, WinRMTimeoutError, connectionError } from "./errors.ts";
import { HttpConnection, HttpRequestError } from "./http1.ts";
import type { HttpResponse } from "./http1.ts";

/** Connection and authentication settings of a transport. */
export interface TransportOptions {
  host: string;
  port: number;
  transport: "http" | "https";
  auth: "basic" | "ntlm";
  username: string;
  password: string;
  domain?: string;
  ca?: string | Buffer | (string | Buffer)[];
  rejectUnauthorized?: boolean;
  allowUnencrypted?: boolean;
  connectTimeoutSec: number;
  maxConnections: number;
  path?: string;
  lookup?: LookupFunction;
  /** Largest response body accepted; past it the request is abandoned. */
  maxResponseBytes: number;
}

/** Counters of what a transport did, for tests and benchmarks. */
export interface TransportStats {
  /** HTTP requests sent, authentication legs included. */
  requests: number;
  /** TCP connections opened. */
  connections: number;
  /** NTLM handshakes performed. */
  authentications: number;
}

interface Connection {
  http: HttpConnection;
  /** The socket the NTLM context was established on. */
  socket: Socket | undefined;
  authenticated: boolean;
  session: NtlmSession | undefined;
}

interface SealedBody {
  session: NtlmSession;
  body: Buffer;
  contentType: string;
}

/** A request prepared on a held connection: its envelope, and its body once sealed (ahead, or when it was posted). */
export interface HeldRequest {
  soap: Buffer;
  sealed?: SealedBody & { pooled?: Buffer };
  /** Called once nothing reads `soap` any more (after its post). */
  onDone?: () => void;
}

/** One connection reserved for a series of requests (Transport.hold). */
export interface HeldConnection {
  /**
   * Builds (and, with NTLM encryption, seals) a request; requests must be posted in the order they
   * were prepared. `onDone` runs once the envelope's bytes are no longer read (after its post).
   */
  prepare(xml: string | Buffer, onDone?: () => void): HeldRequest;
  /** Sends a prepared request on the held connection and returns the response XML. */
  post(request: HeldRequest, opts: { signal?: AbortSignal; timeoutMs: number }): Promise<string>;
  /** Gives the connection back once no request is on its way; one with sealed requests never sent re-authenticates before its next use. */
  release(): Promise<void>;
}

type RawResponse = HttpResponse;

const SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8";

class RetryableSocketError extends Error {}

/** Sends SOAP envelopes to one WinRM endpoint and returns the (decrypted) response XML. */
export class Transport {
  readonly url: string;
  readonly hostLabel: string;
  readonly stats: TransportStats = { requests: 0, connections: 0, authentications: 0 };
  readonly #o: TransportOptions;
  readonly #encrypt: boolean;
  readonly #user: string;
  readonly #domain: string;
  readonly #all: Connection[] = [];
  readonly #idle: Connection[] = [];
  readonly #waiters: ((c: Connection) => void)[] = [];
  #closed = false;

  constructor(opts: TransportOptions) {
    this.#o = opts;
    const hostInUrl = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
    this.url = `${opts.transport}://${hostInUrl}:${opts.port}${opts.path ?? "/wsman"}`;
    this.hostLabel = `${hostInUrl}:${opts.port}`;
    if (opts.auth === "basic" && opts.transport === "http" && !opts.allowUnencrypted) {
      throw new WinRMError(
        "Basic authentication over plain HTTP would send the password and every command in clear text: use transport \"https\" or auth \"ntlm\" " +
          "(which encrypts messages), or set allowUnencrypted: true if the listener really has AllowUnencrypted=true and Basic=true.",
      );
    }
    // Over HTTP, NTLM always seals the messages (MS-WSMV 2.2.9.1.1.2.2); over HTTPS, TLS protects them.
    this.#encrypt = opts.auth === "ntlm" && opts.transport === "http";
    const [user, domain] = splitUser(opts.username, opts.domain);
    this.#user = user;
    this.#domain = domain;
  }

  /** True when request bodies are sealed with NTLM. */
  get encrypted(): boolean {
    return this.#encrypt;
  }

  /** Sends one envelope (text, or its UTF-8 bytes) and returns the response XML. */
  async post(xml: string | Buffer, opts: { signal?: AbortSignal; timeoutMs: number }): Promise<string> {
    const conn = await this.#acquire(opts.signal);
    try {
      return await this.#postOn(conn, typeof xml === "string" ? Buffer.from(xml, "utf8") : xml, opts);
    } finally {
      this.#release(conn);
    }
  }

  /**
   * Takes one connection for a series of requests sent one after another (a copy's Sends), so that
   * each can be sealed while the one before it is still on its way: NTLM seals a connection's
   * messages in sequence, so nothing else may use the connection until `release()`.
   */
  async hold(signal: AbortSignal | undefined): Promise<HeldConnection> {
    const conn = await this.#acquire(signal);
    let released = false;
    let previous: HeldRequest | undefined;
    // Sealed ahead but never posted: the keystream and sequence number moved past what the server saw.
    const unsent = new Set<HeldRequest>();
    const bodies = new BufferPool();
    let inFlight: Promise<void> = Promise.resolve();
    return {
      prepare: (xml, onDone) => {
        if (released) throw new WinRMError("the held WinRM connection was released");
        const request: HeldRequest = { soap: typeof xml === "string" ? Buffer.from(xml, "utf8") : xml, ...(onDone ? { onDone } : {}) };
        const session = conn.authenticated && !conn.socket?.destroyed ? conn.session : undefined;
        // Only right behind a request already sealed for the same session: sequence numbers must follow the sending order.
        if (this.#encrypt && session && (previous === undefined || previous.sealed?.session === session)) {
          const body = encryptWinRMBody(session, request.soap, (size) => bodies.take(size));
          request.sealed = { session, ...body, pooled: body.body };
          unsent.add(request);
        }
        previous = request;
        return request;
      },
      post: async (request, opts) => {
        if (released) throw new WinRMError("the held WinRM connection was released");
        unsent.delete(request);
        const posting = this.#postOn(conn, request.soap, opts, request);
        inFlight = posting.then(
          () => undefined,
          () => undefined,
        );
        try {
          return await posting;
        } finally {
          // A settled request has written its body or dropped its socket: the buffers can carry the next one.
          if (request.sealed?.pooled) bodies.give(request.sealed.pooled);
          request.onDone?.();
        }
      },
      release: async () => {
        if (released) return;
        released = true;
        // A caller that gave up on a Send (its source failed) may still have one on the wire.
        await inFlight;
        if ([...unsent].some((request) => request.sealed?.session === conn.session)) {
          // The server would see a gap in the sequence: this connection authenticates afresh before its next request.
          conn.authenticated = false;
          conn.http.destroy();
        }
        this.#release(conn);
      },
    };
  }

  /** Closes every connection. */
  close(): void {
    this.#closed = true;
    for (const conn of this.#all) conn.http.destroy();
    this.#all.length = 0;
    this.#idle.length = 0;
  }

  #newConnection(): Connection {
    const http = new HttpConnection({
      host: this.#o.host,
      port: this.#o.port,
      ...(this.#o.transport === "https" ? { tls: { ...(this.#o.ca !== undefined ? { ca: this.#o.ca } : {}), rejectUnauthorized: this.#o.rejectUnauthorized ?? true } } : {}),
      ...(this.#o.lookup ? { lookup: this.#o.lookup } : {}),
      connectTimeoutMs: this.#o.connectTimeoutSec * 1000,
    });
    http.onConnect = () => this.stats.connections++;
    const conn: Connection = { http, socket: undefined, authenticated: false, session: undefined };
    this.#all.push(conn);
    return conn;
  }

  #acquire(signal: AbortSignal | undefined): Promise<Connection> {
    if (this.#closed) return Promise.reject(new WinRMError("the WinRM client was closed"));
    signal?.throwIfAborted();
    const idle = this.#idle.pop();
    if (idle) return Promise.resolve(idle);
    if (this.#all.length < this.#o.maxConnections) return Promise.resolve(this.#newConnection());
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.#waiters.indexOf(take);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal?.reason);
      };
      const take = (c: Connection) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(c);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(take);
    });
  }

  #release(conn: Connection): void {
    if (this.#closed) {
      conn.http.destroy();
      return;
    }
    const next = this.#waiters.shift();
    if (next) next(conn);
    else this.#idle.push(conn);
  }

  async #postOn(conn: Connection, soap: Buffer, opts: { signal?: AbortSignal; timeoutMs: number }, held?: HeldRequest): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#attempt(conn, soap, opts, attempt, held);
      } catch (error) {
        // A kept-alive socket the server had already closed: nothing reached the server, so resend once.
        if (error instanceof RetryableSocketError && attempt === 0) {
          conn.authenticated = false;
          continue;
        }
        if (error instanceof RetryableSocketError) throw connectionError(error.cause, this.hostLabel, this.#o.transport);
        throw error;
      }
    }
  }

  async #attempt(conn: Connection, soap: Buffer, opts: { signal?: AbortSignal; timeoutMs: number }, attempt: number, held?: HeldRequest): Promise<string> {
    if (this.#o.auth === "basic") {
      const token = Buffer.from(`${this.#o.username}:${this.#o.password}`, "utf8").toString("base64");
      const res = await this.#http(conn, soap, { Authorization: `Basic ${token}`, "Content-Type": SOAP_CONTENT_TYPE }, opts);
      if (res.status === 401) throw new WinRMAuthError({ host: this.hostLabel, username: this.#o.username, auth: "basic" });
      return this.#readBody(conn, res);
    }
    // The NTLM context belongs to the socket it was established on.
    if (conn.socket?.destroyed || (conn.http.socket !== undefined && conn.http.socket !== conn.socket)) conn.authenticated = false;
    if (!conn.authenticated) {
      const res = await this.#handshake(conn, this.#encrypt ? undefined : soap, opts);
      if (!this.#encrypt) return this.#readBody(conn, res);
    }
    let body: { body: Buffer; contentType: string } = { body: soap, contentType: SOAP_CONTENT_TYPE };
    if (this.#encrypt) {
      const session = conn.session as NtlmSession;
      // Sealed ahead on a held connection for the session still in use, or sealed now.
      if (held?.sealed?.session === session) body = held.sealed;
      else {
        body = encryptWinRMBody(session, soap);
        if (held) held.sealed = { session, ...body };
      }
    }
    const res = await this.#http(conn, body.body, { "Content-Type": body.contentType }, opts);
    if (res.status === 401) {
      conn.authenticated = false;
      // The server forgot our context (e.g. it closed the connection): authenticate again once.
      if (attempt === 0) throw new RetryableSocketError("re-authenticate", { cause: res });
      throw new WinRMAuthError({ host: this.hostLabel, username: this.#o.username, auth: "ntlm", detail: "the server dropped the authenticated session" });
    }
    return this.#readBody(conn, res);
  }

  /** NTLM over the Negotiate scheme; returns the response to the AUTHENTICATE leg. */
  async #handshake(conn: Connection, body: Buffer | undefined, opts: { signal?: AbortSignal; timeoutMs: number }): Promise<RawResponse> {
    this.stats.authentications++;
    const negotiate = createNegotiateMessage();
    const first = await this.#http(conn, Buffer.alloc(0), { Authorization: `Negotiate ${negotiate.toString("base64")}`, "Content-Type": SOAP_CONTENT_TYPE }, opts);
    const challengeB64 = negotiateToken(first.headers["www-authenticate"]);
    if (first.status !== 401 && first.status !== 200) throw new WinRMHttpError(first.status, this.hostLabel, first.body.toString("utf8").slice(0, 200).trim());
    if (first.status !== 401 || !challengeB64) {
      throw new WinRMAuthError({
        host: this.hostLabel,
        username: this.#o.username,
        auth: "ntlm",
        detail: first.status === 401 ? "the server does not offer Negotiate authentication" : `unexpected HTTP ${first.status} to the NTLM negotiation`,
      });
    }
    const challenge = parseChallengeMessage(Buffer.from(challengeB64, "base64"));
    let channelBindings: Buffer | undefined;
    if (this.#o.transport === "https") {
      const cert = (first.socket as TLSSocket).getPeerCertificate?.(false);
      if (cert?.raw) channelBindings = channelBindingsHash(cert.raw);
    }
    const { message, session } = createAuthenticateMessage({
      challenge,
      username: this.#user,
      password: this.#o.password,
      domain: this.#domain,
      negotiateMessage: negotiate,
      ...(channelBindings ? { channelBindings } : {}),
    });
    const payload = body ?? Buffer.alloc(0);
    const second = await this.#http(conn, payload, { Authorization: `Negotiate ${message.toString("base64")}`, "Content-Type": SOAP_CONTENT_TYPE }, opts);
    if (second.socket !== first.socket) {
      throw new WinRMAuthError({ host: this.hostLabel, username: this.#o.username, auth: "ntlm", detail: "the server closed the connection during the NTLM handshake" });
    }
    if (second.status === 401) {
      throw new WinRMAuthError({ host: this.hostLabel, username: this.#o.username, auth: "ntlm" });
    }
    conn.authenticated = true;
    conn.session = session;
    conn.socket = second.socket;
    return second;
  }

  #readBody(conn: Connection, res: RawResponse): string {
    let body = res.body;
    const contentType = String(res.headers["content-type"] ?? "");
    if (isEncryptedContentType(contentType)) {
      if (!conn.session) throw new WinRMError(`the WinRM server at ${this.hostLabel} sent an encrypted body without an NTLM session`);
      try {
        body = decryptWinRMBody(conn.session, body, contentType);
      } catch (error) {
        conn.authenticated = false;
        conn.http.destroy();
        throw new WinRMError(`could not decrypt the response from ${this.hostLabel}: ${(error as Error).message}`, { cause: error });
      }
    } else if (this.#encrypt && body.length > 0) {
      throw new WinRMError(`the WinRM server at ${this.hostLabel} answered HTTP ${res.status} without message encryption; refusing an unprotected response`);
    }
    const text = body.toString("utf8");
    if (res.status === 200) return text;
    if (/<(\w+:)?Fault[\s>]/.test(text)) return text;
    throw new WinRMHttpError(res.status, this.hostLabel, text.slice(0, 200).trim());
  }

  /** One HTTP exchange on the connection's socket, opening one if it has none. */
  async #http(conn: Connection, body: Buffer, headers: Record<string, string>, opts: { signal?: AbortSignal; timeoutMs: number }): Promise<RawResponse> {
    const { signal } = opts;
    if (signal?.aborted) {
      // A body sealed for this request is never sent: the connection's NTLM sequence is out of step.
      conn.authenticated = false;
      throw signal.reason;
    }
    this.stats.requests++;
    try {
      return await conn.http.request(this.#o.path ?? "/wsman", { ...headers, "User-Agent": "opsconductor-winrm" }, body, {
        timeoutMs: opts.timeoutMs,
        ...(signal ? { signal } : {}),
        maxResponseBytes: this.#o.maxResponseBytes,
      });
    } catch (error) {
      conn.authenticated = false;
      if (signal?.aborted && error === signal.reason) throw error;
      if (!(error instanceof HttpRequestError)) throw error;
      if (error.kind === "timeout") {
        throw new WinRMTimeoutError(`no answer from the WinRM server at ${this.hostLabel} within ${Math.round(opts.timeoutMs / 1000)} s; the host may be overloaded or the network dropping packets`);
      }
      if (error.kind === "too-large") {
        throw new WinRMError(
          `the WinRM server at ${this.hostLabel} sent a response larger than ${this.#o.maxResponseBytes} bytes (maxResponseBytes); a WinRM listener keeps to the envelope size the client asks for, so this is not a WinRM server behaving normally`,
        );
      }
      if (error.kind === "protocol") throw new WinRMError(`the server at ${this.hostLabel} did not answer in HTTP/1.1: ${error.message}; is this a WinRM listener?`, { cause: error });
      if (error.retryable) throw new RetryableSocketError("stale keep-alive socket", { cause: error.cause });
      throw connectionError(error.cause ?? error, this.hostLabel, this.#o.transport);
    }
  }
}

function negotiateToken(header: string | string[] | undefined): string | undefined {
  const values = Array.isArray(header) ? header : header ? header.split(/,\s*(?=[A-Za-z]+(?:\s|$))/) : [];
  for (const value of values) {
    const m = /^\s*Negotiate\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value);
    if (m) return m[1];
  }
  return undefined;
}

/** Splits "DOMAIN\\user" into user and domain; "user@domain" (a UPN) is passed whole with an empty domain. */
export function splitUser(username: string, domain: string | undefined): [string, string] {
  const slash = username.indexOf("\\");
  if (slash >= 0) return [username.slice(slash + 1), username.slice(0, slash)];
  return [username, domain ?? ""];
}
