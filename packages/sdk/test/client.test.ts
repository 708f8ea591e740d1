// The client's HTTP behaviour against a local HTTP server (real sockets): retries of 429/503 that honour
// Retry-After, password sessions that refresh before expiry and once on a 401, abort and timeout,
// typed errors, the injected fetch, paged lists and the event-stream reader.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, describe, expect, test, vi } from "vitest";
import { createClient, OpsConductorError } from "../src/index.ts";
import { readSse } from "../src/sse.ts";

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
  at: number;
}

let handler: Handler = (_req, res) => res.end();
const seen: Seen[] = [];
const closed: string[] = [];
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (d: Buffer) => (body += d.toString()));
  req.on("end", () => {
    seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body, at: Date.now() });
    handler(req, res, body);
  });
  res.on("close", () => {
    if (!res.writableFinished) closed.push(req.url!);
  });
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
afterEach(() => {
  seen.length = 0;
  closed.length = 0;
  vi.useRealTimers();
});

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

const failure = (code: string, message: string) => ({ error: { code, message } });

describe("retries", () => {
  test("a 429 is retried after the Retry-After the server sent", async () => {
    let calls = 0;
    handler = (_req, res) => (++calls === 1 ? json(res, 429, failure("rate_limited", "slow down"), { "retry-after": "1" }) : json(res, 200, { items: [], nextCursor: null }));
    const client = createClient({ baseUrl, token: "oc_test" });
    await expect(client.jobs.list()).resolves.toEqual({ items: [], nextCursor: null });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
  });

  test("a 503 without Retry-After is retried with backoff, as often as configured, then thrown as the server's error", async () => {
    handler = (_req, res) => json(res, 503, failure("unavailable", "database is down"));
    const client = createClient({ baseUrl, token: "oc_test", retry: { retries: 2, baseDelayMs: 20 } });
    const error = await client.jobs.get("j1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpsConductorError);
    expect(error).toMatchObject({ status: 503, code: "unavailable", message: "database is down" });
    expect(seen).toHaveLength(3);
  });

  test("a Retry-After longer than maxDelayMs is not waited for; retry: false sends once", async () => {
    handler = (_req, res) => json(res, 429, failure("too_many_streams", "too many"), { "retry-after": "120" });
    const bounded = createClient({ baseUrl, token: "oc_test", retry: { maxDelayMs: 5_000 } });
    await expect(bounded.runs.get("r1")).rejects.toMatchObject({ status: 429, code: "too_many_streams", retryAfter: 120 });
    expect(seen).toHaveLength(1);
    seen.length = 0;
    handler = (_req, res) => json(res, 503, failure("unavailable", "down"));
    await expect(createClient({ baseUrl, token: "oc_test", retry: false }).runs.get("r1")).rejects.toMatchObject({ status: 503 });
    expect(seen).toHaveLength(1);
  });

  test("other errors are not retried and keep their details", async () => {
    handler = (_req, res) => json(res, 400, { error: { code: "validation_failed", message: "body.name is required", details: [{ path: "body.name", message: "is required" }] } });
    const client = createClient({ baseUrl, token: "oc_test" });
    await expect(client.jobs.create({ name: "", steps: [] })).rejects.toMatchObject({ status: 400, code: "validation_failed", details: [{ path: "body.name", message: "is required" }] });
    expect(seen).toHaveLength(1);
    expect(JSON.parse(seen[0]!.body)).toEqual({ name: "", steps: [] });
  });
});

describe("password sessions", () => {
  // A small auth server: login and refresh hand out numbered tokens; `valid` says which access token works.
  function authServer(options: { expiresIn: number; refreshWorks?: boolean }) {
    let issued = 0;
    const state = { valid: new Set<string>(), refreshes: 0, logins: 0 };
    const issue = (res: ServerResponse) => {
      issued++;
      state.valid.add(`access-${issued}`);
      json(res, 200, { accessToken: `access-${issued}`, refreshToken: `refresh-${issued}`, expiresIn: options.expiresIn, user: { id: "u1", username: "ops", role: "operator" } });
    };
    handler = (req, res, body) => {
      if (req.url === "/api/login") {
        state.logins++;
        return JSON.parse(body).password === "pw" ? issue(res) : json(res, 401, failure("invalid_credentials", "wrong"));
      }
      if (req.url === "/api/refresh") {
        state.refreshes++;
        if (options.refreshWorks === false) return json(res, 401, failure("invalid_refresh_token", "used"));
        expect(JSON.parse(body).refreshToken).toBe(`refresh-${issued}`);
        return issue(res);
      }
      const token = req.headers.authorization?.replace("Bearer ", "") ?? "";
      return state.valid.has(token) ? json(res, 200, { user: { id: "u1", username: "ops", role: "operator" } }) : json(res, 401, failure("unauthorized", "token expired"));
    };
    return state;
  }

  test("signs in on the first call and uses the session's access token", async () => {
    const state = authServer({ expiresIn: 900 });
    const client = createClient({ baseUrl, username: "ops", password: "pw" });
    await client.auth.verify();
    await client.auth.verify();
    expect(state.logins).toBe(1);
    expect(seen.map((s) => s.url)).toEqual(["/api/login", "/api/verify", "/api/verify"]);
    expect(seen[1]!.authorization).toBe("Bearer access-1");
  });

  test("refreshes before the access token expires", async () => {
    const state = authServer({ expiresIn: 900 });
    vi.useFakeTimers({ toFake: ["Date"] });
    const client = createClient({ baseUrl, username: "ops", password: "pw" });
    await client.auth.verify();
    vi.setSystemTime(Date.now() + 880_000); // 20 s of the 15 minutes left
    await client.auth.verify();
    expect(state.refreshes).toBe(1);
    expect(seen.map((s) => s.url)).toEqual(["/api/login", "/api/verify", "/api/refresh", "/api/verify"]);
    expect(seen[3]!.authorization).toBe("Bearer access-2");
  });

  test("a 401 refreshes once and repeats the call; a second 401 is thrown", async () => {
    const state = authServer({ expiresIn: 900 });
    const client = createClient({ baseUrl, username: "ops", password: "pw" });
    await client.auth.verify();
    state.valid.clear(); // the server revoked the session's access token
    await client.auth.verify();
    expect(seen.map((s) => s.url)).toEqual(["/api/login", "/api/verify", "/api/verify", "/api/refresh", "/api/verify"]);
    expect(seen[4]!.authorization).toBe("Bearer access-2");

    seen.length = 0;
    handler = (req, res) => (req.url === "/api/refresh" ? json(res, 200, { accessToken: "x", refreshToken: "y", expiresIn: 900 }) : json(res, 401, failure("unauthorized", "no")));
    await expect(client.auth.verify()).rejects.toMatchObject({ status: 401, code: "unauthorized" });
    expect(seen.map((s) => s.url)).toEqual(["/api/verify", "/api/refresh", "/api/verify"]);
  });

  test("a refused refresh signs in with the password again; a wrong password is a typed 401", async () => {
    const state = authServer({ expiresIn: 900, refreshWorks: false });
    const client = createClient({ baseUrl, username: "ops", password: "pw" });
    await client.auth.verify();
    state.valid.clear();
    await client.auth.verify();
    expect(state.logins).toBe(2);
    expect(seen.at(-1)!.authorization).toBe("Bearer access-2");

    const wrong = createClient({ baseUrl, username: "ops", password: "nope" });
    await expect(wrong.auth.verify()).rejects.toMatchObject({ name: "OpsConductorError", status: 401, code: "invalid_credentials" });
  });
});

describe("abort, timeout and transport errors", () => {
  test("an AbortSignal cancels a call in flight and closes its connection", async () => {
    handler = () => {}; // never answers
    const client = createClient({ baseUrl, token: "oc_test" });
    const controller = new AbortController();
    const call = client.runs.get("r1", { signal: controller.signal });
    await expect.poll(() => seen.length).toBe(1);
    controller.abort(new Error("user went away"));
    await expect(call).rejects.toThrow("user went away");
    await expect.poll(() => closed).toEqual(["/api/runs/r1"]);
  });

  test("an aborted signal also stops the wait before a retry", async () => {
    handler = (_req, res) => json(res, 503, failure("unavailable", "down"), { "retry-after": "10" });
    const client = createClient({ baseUrl, token: "oc_test" });
    const controller = new AbortController();
    const call = client.runs.get("r1", { signal: controller.signal });
    await expect.poll(() => seen.length).toBe(1);
    controller.abort(new DOMException("stop", "AbortError"));
    await expect(call).rejects.toMatchObject({ name: "AbortError" });
    expect(seen).toHaveLength(1);
  });

  test("a call's timeout is a typed error with code timeout", async () => {
    handler = () => {};
    const client = createClient({ baseUrl, token: "oc_test", timeoutMs: 10_000 });
    await expect(client.runs.get("r1", { timeoutMs: 100 })).rejects.toMatchObject({ name: "OpsConductorError", status: 0, code: "timeout" });
    await expect.poll(() => closed).toEqual(["/api/runs/r1"]);
  });

  test("an unreachable server is a typed network_error", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const client = createClient({ baseUrl: `http://127.0.0.1:${port}`, token: "oc_test", retry: false });
    await expect(client.jobs.list()).rejects.toMatchObject({ name: "OpsConductorError", status: 0, code: "network_error" });
  });

  test("the injected fetch makes every request, with the base path kept and the query encoded", async () => {
    handler = (_req, res) => json(res, 200, { items: [], nextCursor: null });
    const urls: string[] = [];
    const client = createClient({ baseUrl: `${baseUrl}/ops`, token: "oc_test", fetch: (input, init) => (urls.push(String(input)), fetch(input, init)) });
    await client.runs.list({ status: ["failed", "timed_out"], job: "a b", limit: 5 });
    expect(urls).toEqual([`${baseUrl}/ops/api/runs?status=failed&status=timed_out&job=a+b&limit=5`]);
    expect(seen[0]!.authorization).toBe("Bearer oc_test");
  });
});

describe("paged lists", () => {
  test("awaiting gives the first page, iterating follows nextCursor to the end", async () => {
    const all = Array.from({ length: 7 }, (_, i) => ({ id: `t${i}` }));
    handler = (req, res) => {
      const url = new URL(req.url!, baseUrl);
      const from = Number(url.searchParams.get("cursor") ?? 0);
      const limit = Number(url.searchParams.get("limit"));
      json(res, 200, { items: all.slice(from, from + limit), nextCursor: from + limit < all.length ? String(from + limit) : null });
    };
    const client = createClient({ baseUrl, token: "oc_test" });
    expect(await client.targets.list({ limit: 3 })).toEqual({ items: all.slice(0, 3), nextCursor: "3" });
    seen.length = 0;
    const ids: string[] = [];
    for await (const target of client.targets.list({ limit: 3 })) ids.push(target.id);
    expect(ids).toEqual(all.map((t) => t.id));
    expect(seen.map((s) => s.url)).toEqual(["/api/targets?limit=3", "/api/targets?limit=3&cursor=3", "/api/targets?limit=3&cursor=6"]);
  });
});

describe("run events", () => {
  test("an aborted signal ends a live event stream and closes its connection", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`event: run\ndata: ${JSON.stringify({ id: "r1", status: "running" })}\n\n`);
    };
    const client = createClient({ baseUrl, token: "oc_test" });
    const controller = new AbortController();
    const seenEvents: string[] = [];
    const reading = (async () => {
      for await (const event of client.runs.events("r1", { signal: controller.signal })) {
        seenEvents.push(event.type);
        controller.abort(new Error("stop following"));
      }
    })();
    await expect(reading).rejects.toThrow("stop following");
    expect(seenEvents).toEqual(["run"]);
    await expect.poll(() => closed).toEqual(["/api/runs/r1/events"]);
  });

  test("runs.wait's timeout ends the wait with a typed error while the stream is open", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`event: run\ndata: ${JSON.stringify({ id: "r1", status: "running" })}\n\n`);
    };
    const client = createClient({ baseUrl, token: "oc_test" });
    await expect(client.runs.wait("r1", { timeoutMs: 200 })).rejects.toMatchObject({ name: "OpsConductorError", code: "timeout" });
    expect(seen[0]!.url).toBe("/api/runs/r1/events");
    await expect.poll(() => closed).toEqual(["/api/runs/r1/events"]);
  });
});

describe("the event-stream reader", () => {
  test("reads events split anywhere, with CRLF, CR, multi-line data, comments and retry", async () => {
    const wire = ": hello\r\nretry: 1500\r\n\r\nid: 7\revent: output\rdata: {\"a\":\rdata: 1}\r\rdata: plain\n\nevent: end\ndata: {}\n\n";
    const bytes = new TextEncoder().encode(wire);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 3) controller.enqueue(bytes.subarray(i, i + 3));
        controller.close();
      },
    });
    const retries: number[] = [];
    const events = [];
    for await (const event of readSse(stream, (ms) => retries.push(ms))) events.push(event);
    expect(retries).toEqual([1500]);
    expect(events).toEqual([
      { event: "output", data: '{"a":\n1}', id: "7" },
      { event: "message", data: "plain", id: undefined },
      { event: "end", data: "{}", id: undefined },
    ]);
  });
});
