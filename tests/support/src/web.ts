// Runs the real web server, serving the production build made once for this test run
// (tests/setup/global-setup.ts), on a real socket against this test file's own database, with one
// user per role. The server is stopped after the file, and on every other way out: a failed start,
// a timed-out hook, the test process exiting.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { PrismaClient } from "@opsconductor/db";
import { createLocalUser as createUser } from "../../../apps/web/app/services/auth/local-users.server.ts";
import { freePort } from "@opsconductor/db/embedded";
import { createTestDatabase } from "@opsconductor/db/testing";
import { afterAll, expect, inject } from "vitest";

export { openEvents, type OpenedEvents, type SseEvent } from "./sse.ts";

// The server runs from the web app's folder, as `pnpm start` runs it.
const WEB_APP_DIR = join(import.meta.dirname, "..", "..", "..", "apps", "web");

declare module "vitest" {
  export interface ProvidedContext {
    /** The production build of the web app made for this run by tests/setup/global-setup.ts (empty in the self-test). */
    webBuildDir: string;
  }
}

export const ROLES = ["admin", "operator", "viewer"] as const;
export type TestRole = (typeof ROLES)[number];
export const PASSWORDS: Record<TestRole, string> = { admin: "admin-password-1", operator: "operator-password-1", viewer: "viewer-password-1" };

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string | null;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface TestApp {
  url: string;
  databaseUrl: string;
  prisma: PrismaClient;
  masterKey: string;
  users: Record<TestRole, { id: string; username: string }>;
  /** Everything the server printed so far. */
  output(): string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests inspect response bodies freely
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  /** Signs in as the seeded user of `role` and returns its tokens. */
  login(role: TestRole): Promise<{ accessToken: string; refreshToken: string; cookies: string[] }>;
  /** Signs in as each seeded user, one after another, and answers their access tokens. */
  signInAll(): Promise<Record<TestRole, string>>;
  /** POSTs `body` to `path` with `token` and answers the created resource, failing the test unless the answer is 201. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests inspect response bodies freely
  create<T = any>(path: string, token: string, body: unknown): Promise<T>;
}

// Registered when a test file imports this module, so servers started inside a test are stopped
// after the file too.
const servers = new Set<() => Promise<void>>();
afterAll(async () => {
  await Promise.all([...servers].map((stop) => stop()));
  servers.clear();
});

/** Starts the app for this test file and stops it after the file. */
export async function startApp(extraEnv: Record<string, string> = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const users = {} as TestApp["users"];
  for (const role of ROLES) {
    const user = await createUser(database.prisma, { username: role, password: PASSWORDS[role], role, displayName: `The ${role}` });
    users[role] = { id: user.id, username: user.username };
  }
  const port = await freePort();
  const masterKey = randomBytes(32).toString("base64");
  const webBuildDir = inject("webBuildDir");
  if (!webBuildDir) throw new Error("no web build for this run: startApp() needs the db project's global setup (tests/setup/global-setup.ts)");
  const child = spawn(process.execPath, ["--conditions=@opsconductor/source", "server.ts"], {
    cwd: WEB_APP_DIR,
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      OPSCONDUCTOR_MASTER_KEY: masterKey,
      PORT: String(port),
      HOST: "127.0.0.1",
      NODE_ENV: "production",
      WEB_BUILD_DIR: webBuildDir,
      LOGIN_MAX_FAILURES_PER_IP: "1000",
      ...extraEnv,
    },
    // The IPC channel closes when this process dies however it dies; server.ts then shuts down.
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((done) => child.on("exit", () => done()));
  const running = () => child.exitCode === null && child.signalCode === null;
  // The test process may end without running afterAll (a crash, vitest tearing down a timed-out
  // worker): never leave the server behind.
  const killOnExit = () => {
    if (running()) child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  const stop = async () => {
    process.off("exit", killOnExit);
    if (!running()) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  servers.add(stop);
  const deadline = Date.now() + 60_000;
  while (!output.includes("listening on")) {
    if (!running() || Date.now() > deadline) {
      await stop();
      throw new Error(`web server did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = `http://127.0.0.1:${port}`;

  const request: TestApp["request"] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
    const res = await fetch(`${url}${path}`, { method, headers, body, redirect: "manual" });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed as never, text };
  };

  const login: TestApp["login"] = async (role) => {
    const res = await request<{ accessToken: string; refreshToken: string }>("POST", "/api/login", { body: { username: role, password: PASSWORDS[role] } });
    if (res.status !== 200) throw new Error(`login as ${role} failed: ${res.status} ${res.text}`);
    return { ...res.body, cookies: res.headers.getSetCookie() };
  };

  const signInAll: TestApp["signInAll"] = async () => {
    const tokens = {} as Record<TestRole, string>;
    for (const role of ROLES) tokens[role] = (await login(role)).accessToken;
    return tokens;
  };

  const create: TestApp["create"] = async (path, token, body) => {
    const res = await request("POST", path, { token, body });
    expect(res.status, res.text).toBe(201);
    return res.body;
  };

  return { url, databaseUrl: database.url, prisma: database.prisma, masterKey, users, output: () => output, request, login, signInAll, create };
}

/** An API caller that keeps every response body, for tests that search them for a planted secret. */
export function recordingClient(app: TestApp) {
  const responses: string[] = [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests inspect response bodies freely
  const api = async <T = any>(method: string, path: string, token: string, body?: unknown) => {
    const res = await app.request<T>(method, path, { token, ...(body === undefined ? {} : { body }) });
    responses.push(res.text);
    return res;
  };
  return { api, responses };
}

/** A Cookie header carrying the given Set-Cookie values, as a browser would send them back. */
export function cookieHeader(setCookies: string[]): string {
  return setCookies.map((c) => c.split(";")[0]).join("; ");
}

/** The value of one cookie among Set-Cookie values. */
export function cookieValue(setCookies: string[], name: string): string | undefined {
  const found = setCookies.find((c) => c.startsWith(`${name}=`));
  return found ? decodeURIComponent(found.split(";")[0]!.slice(name.length + 1)) : undefined;
}
