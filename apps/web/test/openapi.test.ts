import { startApp } from "@opsconductor/testing/web";
import { Validator } from "@seriousme/openapi-schema-validator";
import { expect, test } from "vitest";

const app = await startApp();
const res = await app.request("GET", "/api/openapi.json");
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the document is inspected freely
const doc = res.body as any;
type Operation = { operationId: string; "x-permission": string; parameters?: { name: string; in: string; required?: boolean; schema: Record<string, unknown> }[]; security: unknown[]; responses: Record<string, unknown>; requestBody?: { required: boolean; content: Record<string, { schema: Record<string, unknown> }> } };
const operations = Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
const op = (method: string, path: string) => doc.paths[path]?.[method] as Operation | undefined;

test("is public and validates as an OpenAPI 3.1 document", async () => {
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(doc.openapi).toBe("3.1.0");
  const result = await new Validator().validate(doc);
  expect(result.errors).toBeUndefined();
  expect(result.valid).toBe(true);
});

test("lists the auth and run routes with the permission each needs", () => {
  const expected: [string, string, string][] = [
    ["post", "/api/login", "public"],
    ["post", "/api/refresh", "public"],
    ["post", "/api/logout", "public"],
    ["get", "/api/verify", "authenticated"],
    ["post", "/api/revoke-all", "authenticated"],
    ["get", "/api/runs", "runs:read"],
    ["get", "/api/runs/{id}", "runs:read"],
    ["get", "/api/runs/{id}/steps", "runs:read"],
    ["get", "/api/runs/{id}/events", "runs:read"],
    ["get", "/api/runs/{id}/log", "runs:read"],
    ["get", "/api/runs/{id}/log/search", "runs:read"],
    ["get", "/api/runs/{id}/log/sections", "runs:read"],
    ["get", "/api/runs/{id}/log.txt", "runs:read"],
    ["post", "/api/runs/{id}/cancel", "runs:cancel"],
    ["post", "/api/runs/{id}/rerun", "jobs:run"],
    ["get", "/api/openapi.json", "public"],
  ];
  for (const [method, path, permission] of expected) expect(op(method, path)?.["x-permission"], `${method} ${path}`).toBe(permission);
  expect(operations.every(({ op }) => typeof op["x-permission"] === "string")).toBe(true);
  expect(new Set(operations.map(({ op }) => op.operationId)).size).toBe(operations.length);
});

test("declares every path parameter, the query filters and the request bodies from the zod schemas", () => {
  for (const { path, method, op } of operations) {
    const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    const declared = (op.parameters ?? []).filter((p) => p.in === "path");
    expect(declared.map((p) => p.name).sort(), `${method} ${path}`).toEqual(names.sort());
    expect(declared.every((p) => p.required === true)).toBe(true);
  }
  expect(op("get", "/api/runs/{id}")!.parameters).toEqual([{ name: "id", in: "path", required: true, schema: expect.objectContaining({ type: "string", format: "uuid" }) }]);

  const query = Object.fromEntries(op("get", "/api/runs")!.parameters!.filter((p) => p.in === "query").map((p) => [p.name, p]));
  expect(Object.keys(query).sort()).toEqual(["cursor", "from", "job", "limit", "status", "target", "to", "trigger"]);
  expect(query.status!.schema).toMatchObject({ type: "array", items: { enum: ["queued", "running", "succeeded", "failed", "canceled", "timed_out"] } });
  expect(query.trigger!.schema).toMatchObject({ enum: ["manual", "schedule", "api"] });
  expect(query.limit).toMatchObject({ required: false, schema: { type: "integer", default: 50, maximum: 200 } });

  // Request schemas describe what a client sends.
  const login = op("post", "/api/login")!.requestBody!;
  expect(login.required).toBe(true);
  expect(login.content["application/json"]!.schema).toMatchObject({ type: "object", required: ["username", "password"] });
  expect(op("post", "/api/logout")!.requestBody!.required).toBe(false);
});

test("shares the error shape and the security schemes", () => {
  expect(doc.components.schemas.Error).toMatchObject({ type: "object", required: ["error"], properties: { error: { required: ["code", "message"] } } });
  expect(doc.components.securitySchemes).toEqual({
    bearerAuth: expect.objectContaining({ type: "http", scheme: "bearer" }),
    cookieAuth: expect.objectContaining({ type: "apiKey", in: "cookie", name: "oc_access" }),
  });
  const runs = op("get", "/api/runs")!;
  expect(runs.security).toEqual([{ bearerAuth: [] }, { cookieAuth: [] }]);
  expect(runs.responses["401"]).toEqual({ description: expect.any(String), content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } });
  expect(runs.responses["403"]).toBeDefined();
  expect(op("post", "/api/login")!.security).toEqual([]);
  expect(op("post", "/api/runs/{id}/rerun")!.responses["202"]).toBeDefined();
  expect(op("get", "/api/runs/{id}/events")!.responses["200"]).toMatchObject({ content: { "text/event-stream": expect.any(Object) } });
  // Every $ref points at something in the document.
  const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
  for (const name of refs) expect(doc.components.schemas[name], name).toBeDefined();
});
