// HTTP for every SDK call: URL building, authentication (tokens, or a password session that refreshes
// itself), the per-call timeout and AbortSignal, retries of 429/503 honouring Retry-After, and errors.
import { OpsConductorError, errorFromResponse } from "./errors.ts";

/** How 429 and 503 answers are retried. */
export interface RetryOptions {
  /** Retries after the first attempt (default 3; 0 turns retrying off). */
  retries?: number;
  /** First backoff when the server sends no Retry-After, doubled each retry (default 250 ms). */
  baseDelayMs?: number;
  /** Longest wait before a retry (default 30 s); a Retry-After beyond it ends the retrying. */
  maxDelayMs?: number;
}

/** Options every client takes, whichever way it signs in. */
export interface BaseClientOptions {
  /** Where the app is, e.g. https://ops.example.com (a path prefix is kept). */
  baseUrl: string | URL;
  /** The fetch to use (default: globalThis.fetch). */
  fetch?: typeof globalThis.fetch;
  /** Default timeout of a call in ms (default 30 000; 0 for none). A call's own `timeoutMs` wins. */
  timeoutMs?: number;
  /** Retrying of 429 and 503 answers; `false` for none. */
  retry?: RetryOptions | false;
  /** Headers sent with every request (e.g. a User-Agent). */
  headers?: Record<string, string>;
}

/** Signs in with an API token (`oc_...`) or an access token: sent as `Authorization: Bearer`. */
export interface TokenClientOptions extends BaseClientOptions {
  token: string;
}

/** Signs in with a username and password; the session refreshes itself before it expires. */
export interface PasswordClientOptions extends BaseClientOptions {
  username: string;
  password: string;
}

/** What createClient takes. */
export type ClientOptions = TokenClientOptions | PasswordClientOptions;

/** What every call takes. */
export interface CallOptions {
  /** Aborts the call; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Timeout of the call in ms, retries included (default: the client's); an OpsConductorError with code `timeout` after it. */
  timeoutMs?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

export interface RequestSpec extends CallOptions {
  method: string;
  /** OpenAPI path, e.g. /api/runs/{id}. */
  path: string;
  params?: Record<string, string | number> | undefined;
  query?: Record<string, unknown> | undefined;
  /** A JSON body. */
  json?: unknown;
  /** A raw body (an upload), sent as it is. */
  body?: BodyInit;
  /** false for the sign-in endpoints themselves. */
  authenticate?: boolean;
  /** The caller reads the body as a stream: the timeout stops once the headers are in. */
  stream?: boolean;
}

/** Tokens of a password session. */
interface SessionTokens {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms when the access token expires. */
  expiresAt: number;
  /** Lifetime of the access token in ms. */
  ttl: number;
}

interface LoginAnswer {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const RETRY_STATUSES = new Set([429, 503]);

/** Waits `ms`, or rejects with the signal's reason. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Appends `query` to `url`: arrays as repeated keys, undefined and null left out. */
function appendQuery(url: URL, query: Record<string, unknown> | undefined): void {
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(name, item instanceof Date ? item.toISOString() : String(item));
  }
}

/** One call's signal: the caller's, plus the timeout; `done()` stops the timer. */
function callSignal(signal: AbortSignal | undefined, timeoutMs: number) {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal!.reason);
  if (signal?.aborted) controller.abort(signal.reason);
  else signal?.addEventListener("abort", onAbort, { once: true });
  const timer = timeoutMs > 0 ? setTimeout(() => controller.abort(new OpsConductorError(0, "timeout", `the call took longer than ${timeoutMs} ms`)), timeoutMs) : undefined;
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
  return {
    signal: controller.signal,
    deadline,
    /** Stops the timer; `keepAbort` keeps the caller's signal able to end a body still being read. */
    done(keepAbort = false) {
      clearTimeout(timer);
      if (!keepAbort) signal?.removeEventListener("abort", onAbort);
    },
  };
}

/** The HTTP layer of one client. */
export class Transport {
  readonly baseUrl: URL;
  private readonly fetchImpl: typeof globalThis.fetch;
  private readonly timeoutMs: number;
  private readonly retry: Required<RetryOptions>;
  private readonly headers: Record<string, string>;
  private readonly token: string | undefined;
  private readonly credentials: { username: string; password: string } | undefined;
  private session: SessionTokens | undefined;
  private renewing: Promise<SessionTokens> | undefined;

  constructor(options: ClientOptions) {
    const base = new URL(String(options.baseUrl));
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    this.baseUrl = base;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== "function") throw new TypeError("no fetch: pass options.fetch");
    this.fetchImpl = fetchImpl;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const retry = options.retry === false ? { retries: 0 } : (options.retry ?? {});
    this.retry = { retries: retry.retries ?? 3, baseDelayMs: retry.baseDelayMs ?? 250, maxDelayMs: retry.maxDelayMs ?? 30_000 };
    this.headers = { ...options.headers };
    if ("token" in options && typeof options.token === "string") this.token = options.token;
    else if ("username" in options) this.credentials = { username: options.username, password: options.password };
    else throw new TypeError("createClient needs a token, or a username and password");
  }

  /** The URL of an API path with its parameters and query. */
  url(path: string, params?: Record<string, string | number>, query?: Record<string, unknown>): URL {
    const filled = path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
      const value = params?.[name];
      if (value === undefined || value === "") throw new TypeError(`missing path parameter ${name}`);
      return encodeURIComponent(String(value));
    });
    const url = new URL(filled.replace(/^\//, ""), this.baseUrl);
    appendQuery(url, query);
    return url;
  }

  /** Sends a request and answers the 2xx response (its body unread); throws OpsConductorError otherwise. */
  async send(spec: RequestSpec): Promise<Response> {
    const call = callSignal(spec.signal, spec.timeoutMs ?? this.timeoutMs);
    let streaming = false;
    try {
      const res = await this.attempts(spec, call.signal, call.deadline);
      if (spec.stream) {
        streaming = true;
        return res;
      }
      // Read the body under the timeout too: a JSON answer is only done when it is all in.
      const bytes = await res.arrayBuffer().catch((error: unknown) => {
        throw this.failure(error, call.signal);
      });
      return new Response(res.status === 204 || res.status === 304 ? null : bytes, { status: res.status, statusText: res.statusText, headers: res.headers });
    } finally {
      call.done(streaming);
    }
  }

  /** Sends a request and answers its JSON body (undefined for 204). */
  async json<T>(spec: RequestSpec): Promise<T> {
    const res = await this.send({ ...spec, stream: false });
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private failure(error: unknown, signal: AbortSignal): unknown {
    if (signal.aborted) return signal.reason;
    if (error instanceof OpsConductorError) return error;
    return new OpsConductorError(0, "network_error", `could not reach the server: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }

  private async attempts(spec: RequestSpec, signal: AbortSignal, deadline: number): Promise<Response> {
    const replayable = !(spec.body instanceof ReadableStream);
    let reauthenticated = false;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.once(spec, signal);
      } catch (error) {
        throw this.failure(error, signal);
      }
      if (res.ok) return res;
      if (res.status === 401 && spec.authenticate !== false && this.credentials && !reauthenticated && replayable) {
        // The session was revoked or its token expired early: renew once and try again.
        await res.body?.cancel().catch(() => {});
        reauthenticated = true;
        await this.renew(signal);
        attempt--;
        continue;
      }
      const error = await errorFromResponse(res);
      if (!RETRY_STATUSES.has(res.status) || attempt >= this.retry.retries || !replayable) throw error;
      const backoff = this.retry.baseDelayMs * 2 ** attempt;
      const wait = error.retryAfter !== undefined ? error.retryAfter * 1000 : backoff / 2 + Math.random() * (backoff / 2);
      if (wait > this.retry.maxDelayMs || Date.now() + wait > deadline) throw error;
      await sleep(wait, signal);
    }
  }

  private async once(spec: RequestSpec, signal: AbortSignal): Promise<Response> {
    const headers = new Headers(this.headers);
    for (const [name, value] of Object.entries(spec.headers ?? {})) headers.set(name, value);
    if (!headers.has("accept")) headers.set("accept", "application/json");
    if (spec.authenticate !== false) headers.set("authorization", `Bearer ${await this.accessToken(signal)}`);
    let body: BodyInit | undefined;
    if (spec.json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(spec.json);
    } else if (spec.body !== undefined) {
      if (!headers.has("content-type")) headers.set("content-type", "application/octet-stream");
      body = spec.body;
    }
    const init: RequestInit & { duplex?: "half" } = { method: spec.method, headers, signal, redirect: "manual" };
    if (body !== undefined) init.body = body;
    // Streaming a request body needs half duplex in Node's and Deno's fetch.
    if (body instanceof ReadableStream) init.duplex = "half";
    return this.fetchImpl(this.url(spec.path, spec.params, spec.query), init);
  }

  /** The bearer token of the next request: the API token, or the session's (signing in or refreshing first when due). */
  async accessToken(signal?: AbortSignal): Promise<string> {
    if (this.token !== undefined) return this.token;
    const session = this.session;
    // Refresh ahead: once a fifth of the token's life (at most 30 s) is left.
    if (session && session.expiresAt - Date.now() > Math.min(30_000, session.ttl / 5)) return session.accessToken;
    return (await this.renew(signal)).accessToken;
  }

  /** Refreshes the session (or signs in when there is none or the refresh is refused); one at a time. */
  private renew(signal: AbortSignal | undefined): Promise<SessionTokens> {
    const current = this.session;
    this.renewing ??= (async () => {
      try {
        let answer: LoginAnswer | undefined;
        if (current) {
          answer = await this.json<LoginAnswer>({ method: "POST", path: "/api/refresh", json: { refreshToken: current.refreshToken }, authenticate: false, ...(signal ? { signal } : {}) }).catch((error: unknown) => {
            if (error instanceof OpsConductorError && (error.status === 401 || error.status === 400)) return undefined;
            throw error;
          });
        }
        answer ??= await this.json<LoginAnswer>({ method: "POST", path: "/api/login", json: this.credentials, authenticate: false, ...(signal ? { signal } : {}) });
        const ttl = answer.expiresIn * 1000;
        this.session = { accessToken: answer.accessToken, refreshToken: answer.refreshToken, expiresAt: Date.now() + ttl, ttl };
        return this.session;
      } finally {
        this.renewing = undefined;
      }
    })();
    return this.renewing;
  }

  /** The session's refresh token (password clients that have signed in), for signing out. */
  refreshToken(): string | undefined {
    return this.session?.refreshToken;
  }

  /** Forgets the session (after signing out). */
  forgetSession(): void {
    this.session = undefined;
  }

  /** Whether this client signs in with a password (and so has a session to refresh). */
  get usesPassword(): boolean {
    return this.credentials !== undefined;
  }
}
