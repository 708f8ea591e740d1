// Every /api operation, read from the generated OpenAPI document, against every role and no token;
// then fuzzed with malformed and random input. Nothing answers 5xx, and every 4xx names its problem.
import { createTestJob, createTestRun } from "@opsconductor/testing";
import { ROLES, startApp, type TestRole } from "@opsconductor/testing/web";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { PERMISSIONS, type Permission } from "../app/lib/permissions.ts";

const app = await startApp({ LOGIN_FREE_FAILURES_PER_ACCOUNT: "100000" });

interface Operation {
  method: string;
  path: string;
  permission: Permission | "public" | "authenticated";
  pathParams: string[];
}

const doc = (await app.request("GET", "/api/openapi.json")).body as { paths: Record<string, Record<string, { "x-permission": string; parameters?: { name: string; in: string }[] }>> };
const operations: Operation[] = Object.entries(doc.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, op]) => ({
    method: method.toUpperCase(),
    path,
    permission: op["x-permission"] as Operation["permission"],
    pathParams: (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name),
  })),
);
// Operations that end the caller's own session run last, so they don't pull the rug from the rest.
const SESSION_ENDING = new Set(["POST /api/revoke-all", "POST /api/logout", "POST /api/users/me/password"]);
operations.sort((a, b) => Number(SESSION_ENDING.has(`${a.method} ${a.path}`)) - Number(SESSION_ENDING.has(`${b.method} ${b.path}`)));

const MISSING_ID = "00000000-0000-4000-8000-000000000000";
const concrete = (op: Operation, value = MISSING_ID) => op.path.replace(/\{(\w+)\}/g, (_m, name: string) => (name === "number" || name === "n" ? "1" : value));

const tokens = {} as Record<TestRole, string>;
async function token(role: TestRole, fresh = false): Promise<string> {
  if (fresh || !tokens[role]) tokens[role] = (await app.login(role)).accessToken;
  return tokens[role];
}

const fuzzStatuses = new Map<number, number>();

function expectNamedProblem(status: number, body: unknown, what: string) {
  fuzzStatuses.set(status, (fuzzStatuses.get(status) ?? 0) + 1);
  expect(status, what).toBeLessThan(500);
  if (status >= 400 && status !== 405) {
    const error = (body as { error?: { code?: unknown; message?: unknown; details?: { path?: unknown; message?: unknown }[] } })?.error;
    expect(typeof error?.code, `${what}: error.code`).toBe("string");
    expect(typeof error?.message === "string" && error.message.length > 0, `${what}: error.message`).toBe(true);
    if (error?.code === "validation_failed") {
      expect(error.details?.length, `${what}: details`).toBeGreaterThan(0);
      for (const d of error.details ?? []) expect(typeof d.path === "string" && typeof d.message === "string", `${what}: detail`).toBe(true);
    }
  }
}

test("the OpenAPI document lists every API area", () => {
  const paths = Object.keys(doc.paths);
  for (const prefix of ["/api/login", "/api/users", "/api/credentials", "/api/targets", "/api/jobs", "/api/runs", "/api/schedules", "/api/scheduler/status", "/api/executor/status", "/api/audit"]) {
    expect(paths.some((p) => p.startsWith(prefix)), prefix).toBe(true);
  }
  expect(operations.length).toBeGreaterThan(40);
});

describe("every route × every role", () => {
  test("no token: 401 unless public", async () => {
    for (const op of operations) {
      const res = await app.request(op.method, concrete(op), op.method === "GET" ? {} : { body: {} });
      const what = `${op.method} ${op.path} without a token`;
      if (op.permission === "public") expect(res.status, what).not.toBe(401);
      else expect(res.status, what).toBe(401);
      expectNamedProblem(res.status, res.body, what);
    }
  });

  test.each(ROLES)("%s: 403 exactly where the permission table says so", async (role) => {
    for (const op of operations) {
      const res = await app.request(op.method, concrete(op), { token: await token(role), ...(op.method === "GET" ? {} : { body: {} }) });
      const what = `${op.method} ${op.path} as ${role}`;
      const allowed = op.permission === "public" || op.permission === "authenticated" || PERMISSIONS[op.permission].includes(role);
      if (allowed) {
        expect(res.status, what).not.toBe(403);
        expect(res.status, what).not.toBe(401);
      } else {
        expect(res.status, what).toBe(403);
        expect(res.body.error.code, what).toBe("forbidden");
      }
      expectNamedProblem(res.status, res.body, what);
      if (SESSION_ENDING.has(`${op.method} ${op.path}`)) await token(role, true);
    }
  });
});

describe("fuzzing", () => {
  const json = fc.jsonValue({ maxDepth: 3 });
  const queryValue = fc.oneof(fc.string({ maxLength: 20 }), fc.integer().map(String), fc.constantFrom("", "-1", "true", "null", "%", "1e999", "2026-13-45T99:99:99Z", MISSING_ID));

  test("random JSON bodies get a 4xx naming the problem, never a 5xx", { timeout: 600_000 }, async () => {
    for (const op of operations.filter((o) => o.method !== "GET")) {
      await fc.assert(
        fc.asyncProperty(json, async (body) => {
          let res = await app.request(op.method, concrete(op), { token: await token("admin"), body });
          if (res.status === 401 && op.permission !== "public") res = await app.request(op.method, concrete(op), { token: await token("admin", true), body });
          expectNamedProblem(res.status, res.body, `${op.method} ${op.path} with ${JSON.stringify(body).slice(0, 200)}`);
        }),
        { numRuns: 12 },
      );
      await token("admin", true);
    }
  });

  test("malformed JSON, wrong content types and hostile path parameters get a 4xx", { timeout: 300_000 }, async () => {
    const admin = await token("admin", true);
    for (const op of operations) {
      if (op.method !== "GET") {
        for (const [rawBody, type] of [['{"a":', "application/json"], ["[1,2", "application/json"], ["name=x", "application/x-www-form-urlencoded"], ["\u0000\uffff", "application/json"]] as const) {
          const res = await app.request(op.method, concrete(op), { token: admin, rawBody, headers: { "content-type": type } });
          expectNamedProblem(res.status, res.body, `${op.method} ${op.path} with body ${JSON.stringify(rawBody)}`);
        }
      }
      if (op.pathParams.length > 0) {
        for (const value of ["not-a-uuid", "%00", "..%2F..%2Fetc", "' OR 1=1 --", "9".repeat(40)]) {
          const res = await app.request(op.method, concrete(op, value), { token: admin, ...(op.method === "GET" ? {} : { body: {} }) });
          expectNamedProblem(res.status, res.body, `${op.method} ${concrete(op, value)}`);
        }
      }
    }
  });

  test("random query strings on every read get a 4xx naming the problem, never a 5xx", { timeout: 300_000 }, async () => {
    const reads = operations.filter((o) => o.method === "GET" && !o.path.endsWith("/events"));
    for (const op of reads) {
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom("limit", "cursor", "q", "status", "from", "to", "role", "os", "tag", "job", "action", "actor", "entityType", "entityId", "enabled", "afterSequence", "x"), queryValue, { maxKeys: 4 }), async (query) => {
          const qs = new URLSearchParams(query).toString();
          const res = await app.request("GET", `${concrete(op)}?${qs}`, { token: await token("admin") });
          expectNamedProblem(res.status, res.body, `GET ${op.path}?${qs}`);
        }),
        { numRuns: 10 },
      );
    }
  });

  test("integers out of range in paths, queries and Last-Event-ID get a 400 naming the field, against real rows", { timeout: 300_000 }, async () => {
    const admin = await token("admin", true);
    const definition = { name: "ranges", steps: [{ id: "s", type: "winrm.exec", target: "srv-1", command: "hostname" }] };
    const job = await createTestJob(app.prisma, { name: "integer ranges", definition, createdById: app.users.admin.id });
    const run = await createTestRun(app.prisma, job, { status: "succeeded", requestedById: app.users.admin.id });
    // Real ids, so a handler gets as far as the database with the number.
    const withIds = (op: Operation, number: string) =>
      op.path.replace(/\{(\w+)\}/g, (_m, name: string) => (name === "number" || name === "n" ? number : op.path.startsWith("/api/runs/") ? run.id : op.path.startsWith("/api/jobs/") ? job.id : MISSING_ID));
    const outOfRange = ["2147483648", "3000000000", "-2147483649", "9999999999", "9".repeat(25), "1e10", "-1e300"];
    const numbered = operations.filter((op) => op.pathParams.some((p) => p === "number" || p === "n"));
    expect(numbered.length).toBeGreaterThan(0);
    for (const op of numbered) {
      for (const value of outOfRange) {
        const res = await app.request(op.method, withIds(op, value), { token: admin, ...(op.method === "GET" ? {} : { body: {} }) });
        expectNamedProblem(res.status, res.body, `${op.method} ${withIds(op, value)}`);
        expect(res.status, `${op.method} ${withIds(op, value)}`).toBe(400);
      }
    }
    for (const op of operations.filter((o) => o.method === "GET")) {
      for (const key of ["limit", "afterSequence", "lastEventId"]) {
        for (const value of outOfRange) {
          const path = `${withIds(op, "1")}?${key}=${encodeURIComponent(value)}`;
          const res = await app.request("GET", path, { token: admin });
          expectNamedProblem(res.status, res.body, `GET ${path}`);
        }
      }
    }
    for (const key of ["afterSequence", "lastEventId"]) {
      const path = key === "afterSequence" ? `/api/runs/${run.id}/steps` : `/api/runs/${run.id}/events`;
      const res = await app.request("GET", `${path}?${key}=9999999999`, { token: admin });
      expect(res.status, path).toBe(400);
      expect(res.body.error.details[0].path).toBe(`query.${key}`);
    }
    for (const value of ["9999999999", "2147483648", "-2147483649"]) {
      const res = await app.request("GET", `/api/runs/${run.id}/events`, { token: admin, headers: { "last-event-id": value } });
      expect(res.status, `Last-Event-ID: ${value}`).toBe(400);
      expect(res.body.error.details).toEqual([expect.objectContaining({ path: "headers.last-event-id" })]);
    }
  });
});

test("the requests above reached the handlers: validation and success answers, not just auth failures", () => {
  const count = (predicate: (status: number) => boolean) => [...fuzzStatuses].filter(([status]) => predicate(status)).reduce((n, [, c]) => n + c, 0);
  expect(count((s) => s === 400)).toBeGreaterThan(200);
  expect(count((s) => s >= 200 && s < 300)).toBeGreaterThan(50);
  expect(count((s) => s === 404)).toBeGreaterThan(20);
});

test("the server logged no unexpected error while all of the above ran", () => {
  expect(app.output()).not.toMatch(/unexpected error/);
});
