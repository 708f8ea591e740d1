// The web server's request log, request ids and metrics, over a real socket: one structured line
// per request with the id the response carries, the id in a 500's body, and /api/metrics for admins.
import { randomUUID } from "node:crypto";
import { startApp, type TestApp } from "@opsconductor/testing/web";
import { beforeAll, describe, expect, test } from "vitest";
import { parseWebEnv } from "../app/env.server.ts";

interface Line {
  level: number;
  msg: string;
  service?: string;
  requestId?: string;
  method?: string;
  route?: string;
  status?: number;
  durationMs?: number;
  userId?: string | null;
  err?: { message?: string; stack?: string };
}

/** The JSON lines the server printed (its other output, if any, left out). */
function logLines(app: TestApp): Line[] {
  return app
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Line);
}

const requestLines = (app: TestApp, requestId: string) => logLines(app).filter((l) => l.msg === "request" && l.requestId === requestId);

describe("the request log", () => {
  let app: TestApp;
  let tokens: Record<"admin" | "operator" | "viewer", string>;
  beforeAll(async () => {
    app = await startApp();
    tokens = await app.signInAll();
  });

  test("an API request writes one line with its request id, route pattern, status, duration and user, and the response carries the id", async () => {
    const missing = randomUUID();
    const res = await app.request("GET", `/api/targets/${missing}?note=private-query-text`, { token: tokens.operator });
    expect(res.status).toBe(404);
    const requestId = res.headers.get("x-request-id");
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    await expect.poll(() => requestLines(app, requestId!).length).toBe(1);
    const [line] = requestLines(app, requestId!);
    expect(line).toMatchObject({ service: "web", level: 30, method: "GET", route: "/api/targets/:id", status: 404, userId: app.users.operator.id });
    expect(line!.durationMs).toBeGreaterThanOrEqual(0);
    // The pattern, not the path: no ids, no query string, and never the token.
    const text = JSON.stringify(line);
    expect(text).not.toContain(missing);
    expect(text).not.toContain("private-query-text");
    expect(app.output()).not.toContain(tokens.operator);
  });

  test("a sign-in is logged without its body, and a page request without a user", async () => {
    const login = await app.request("POST", "/api/login", { body: { username: "admin", password: "admin-password-1" } });
    expect(login.status).toBe(200);
    const page = await app.request("GET", "/login");
    expect(page.status).toBe(200);
    for (const res of [login, page]) await expect.poll(() => requestLines(app, res.headers.get("x-request-id")!).length).toBe(1);
    expect(requestLines(app, login.headers.get("x-request-id")!)[0]).toMatchObject({ method: "POST", route: "/api/login", status: 200, userId: null });
    expect(requestLines(app, page.headers.get("x-request-id")!)[0]).toMatchObject({ method: "GET", route: "/login", status: 200, userId: null });
    expect(app.output()).not.toContain("admin-password-1");
    expect(app.output()).not.toContain((login.body as { accessToken: string }).accessToken);
    expect(app.output()).not.toContain((login.body as { refreshToken: string }).refreshToken);
  });

  test("a client's own X-Request-Id is not taken when no proxy is trusted", async () => {
    const res = await app.request("GET", "/api/users/me", { token: tokens.viewer, headers: { "x-request-id": "chosen-by-client" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).not.toBe("chosen-by-client");
    await expect.poll(() => requestLines(app, res.headers.get("x-request-id")!).length).toBe(1);
    expect(logLines(app).some((l) => l.requestId === "chosen-by-client")).toBe(false);
  });

  test("GET /api/metrics: admins read request counts by route pattern and status, streams open and pool use; others are refused", async () => {
    const counted = await app.request("GET", `/api/targets/${randomUUID()}`, { token: tokens.admin });
    expect(counted.status).toBe(404);
    expect((await app.request("GET", "/api/metrics")).status).toBe(401);
    expect((await app.request("GET", "/api/metrics", { token: tokens.operator })).status).toBe(403);
    expect((await app.request("GET", "/api/metrics", { token: tokens.viewer })).status).toBe(403);
    // The request line is written when the answer ends; the counter with it.
    await expect.poll(() => requestLines(app, counted.headers.get("x-request-id")!).length).toBe(1);
    const res = await app.request("GET", "/api/metrics", { token: tokens.admin });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const count = Number(/^opsconductor_web_requests_total\{method="GET",route="\/api\/targets\/:id",status="404"\} (\d+)$/m.exec(res.text)?.[1]);
    expect(count).toBeGreaterThanOrEqual(2);
    expect(res.text).toMatch(/^opsconductor_web_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/api\/targets\/:id",status="404"\} \d+$/m);
    expect(res.text).toMatch(/^opsconductor_web_run_streams_open 0$/m);
    expect(res.text).toMatch(/^opsconductor_web_db_pool_connections\{state="in_use"\} \d+$/m);
    expect(res.text).toMatch(/^opsconductor_web_db_pool_connections\{state="waiting"\} 0$/m);
    expect(res.text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
  });
});

describe("behind a trusted proxy", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ TRUST_PROXY_HOPS: "1" });
  });

  test("the proxy's X-Request-Id is the request's id; a malformed one is replaced", async () => {
    const res = await app.request("GET", "/health", { headers: { "x-request-id": "edge-7f3a.1" } });
    expect(res.headers.get("x-request-id")).toBe("edge-7f3a.1");
    await expect.poll(() => requestLines(app, "edge-7f3a.1").length).toBe(1);
    const odd = await app.request("GET", "/health", { headers: { "x-request-id": 'x"} injected line' } });
    expect(odd.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("a forced 500 shows the request id in its body, the request line and the error line", async () => {
    const { accessToken } = await app.login("admin");
    // A table gone under the app: an unexpected database error, not bad input.
    await app.prisma.$executeRawUnsafe("ALTER TABLE targets RENAME TO targets_gone");
    try {
      const res = await app.request("GET", "/api/targets", { token: accessToken, headers: { "x-request-id": "proxy-500-check" } });
      expect(res.status).toBe(500);
      expect(res.headers.get("x-request-id")).toBe("proxy-500-check");
      expect(res.body).toEqual({ error: { code: "internal_error", message: expect.stringContaining("request id proxy-500-check"), requestId: "proxy-500-check" } });
      expect(res.text).not.toContain("targets_gone");
      await expect.poll(() => requestLines(app, "proxy-500-check").length).toBe(1);
      expect(requestLines(app, "proxy-500-check")[0]).toMatchObject({ level: 50, route: "/api/targets", status: 500, userId: app.users.admin.id });
      const errorLine = logLines(app).find((l) => l.msg === "unexpected error" && l.requestId === "proxy-500-check");
      expect(errorLine?.err?.message).toBeTruthy();
    } finally {
      await app.prisma.$executeRawUnsafe("ALTER TABLE targets_gone RENAME TO targets");
    }
  });
});

test("LOG_LEVEL=warn leaves successful requests out of the log", async () => {
  const app = await startApp({ LOG_LEVEL: "warn" });
  const res = await app.request("GET", "/health");
  expect(res.status).toBe(200);
  expect(res.headers.get("x-request-id")).toBeTruthy();
  // A later 404 is also below warn: nothing but the absence can be observed, so ask the metrics that it was answered.
  const { accessToken } = await app.login("admin");
  const metrics = await app.request("GET", "/api/metrics", { token: accessToken });
  expect(metrics.text).toMatch(/^opsconductor_web_requests_total\{method="GET",route="\/health",status="200"\} 1$/m);
  expect(logLines(app).filter((l) => l.msg === "request")).toEqual([]);
});

test("a bad LOG_LEVEL fails the configuration, naming the variable", () => {
  const base = { DATABASE_URL: "postgresql://u:p@127.0.0.1:5432/db", OPSCONDUCTOR_MASTER_KEY: Buffer.alloc(32, 1).toString("base64") };
  expect(parseWebEnv({ ...base, LOG_LEVEL: "debug" }).LOG_LEVEL).toBe("debug");
  expect(() => parseWebEnv({ ...base, LOG_LEVEL: "loud" })).toThrow(/LOG_LEVEL/);
});
