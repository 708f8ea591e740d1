// The SDK cannot drift from the API: the OpenAPI document the running app serves must equal the one
// the SDK's types were generated from (packages/sdk/openapi.json), operation by operation and shape by
// shape, and every operation in it must have an SDK method. After changing an API route, update the
// SDK with `OPSCONDUCTOR_UPDATE_SDK_OPENAPI=1 pnpm test apps/web/test/sdk-drift.test.ts`, then map any
// new operation in packages/sdk/src/client.ts (OPERATION_METHODS and its namespace).
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createClient, OPERATION_METHODS } from "@opsconductor/sdk";
import { startApp } from "@opsconductor/testing/web";
import { expect, test } from "vitest";
import { generate, operationsOf, type OpenApiDocument } from "../../../packages/sdk/scripts/generate.ts";

const SDK_DIR = fileURLToPath(new URL("../../../packages/sdk/", import.meta.url));
const SNAPSHOT = `${SDK_DIR}openapi.json`;
const GENERATED = `${SDK_DIR}src/generated/api.ts`;

const app = await startApp();
const live = (await app.request("GET", "/api/openapi.json")).body as OpenApiDocument;

if (process.env.OPSCONDUCTOR_UPDATE_SDK_OPENAPI === "1") {
  writeFileSync(SNAPSHOT, `${JSON.stringify(live, null, 2)}\n`);
  execFileSync(process.execPath, [`${SDK_DIR}scripts/generate.ts`], { stdio: "inherit" });
}

// Summaries and descriptions are prose: everything else (methods, paths, parameters, bodies,
// statuses, media types, permissions) is the shape the SDK is typed with.
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (!value || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== "summary" && key !== "description")
      .map(([key, inner]) => [key, shape(inner)]),
  );
}

/** What differs between the served document and the SDK's: one line per operation. */
function drift(served: OpenApiDocument, sdk: OpenApiDocument): string[] {
  const key = (o: { method: string; path: string }) => `${o.method.toUpperCase()} ${o.path}`;
  const mine = new Map(operationsOf(sdk).map((o) => [key(o), o.op]));
  const problems: string[] = [];
  for (const o of operationsOf(served)) {
    const ours = mine.get(key(o));
    mine.delete(key(o));
    if (!ours) problems.push(`${key(o)} (${o.op.operationId}) is not in the SDK`);
    else if (JSON.stringify(shape(ours)) !== JSON.stringify(shape(o.op))) problems.push(`${key(o)} (${o.op.operationId}) has a different shape in the SDK`);
    if (!(o.op.operationId in OPERATION_METHODS)) problems.push(`${key(o)} (${o.op.operationId}) has no SDK method`);
  }
  for (const [gone, op] of mine) problems.push(`${gone} (${op.operationId}) is in the SDK but no longer in the API`);
  if (JSON.stringify(shape(served.components)) !== JSON.stringify(shape(sdk.components))) problems.push("the shared schemas (components) differ");
  return problems;
}

const snapshot = JSON.parse(readFileSync(SNAPSHOT, "utf8")) as OpenApiDocument;

test("every operation the app serves is in the SDK with the same shape, and none is missing a method", () => {
  expect(drift(live, snapshot)).toEqual([]);
});

test("every operation maps to a method the client really has", () => {
  const client = createClient({ baseUrl: app.url, token: "oc_unused" }) as unknown as Record<string, Record<string, unknown>>;
  const missing = Object.entries(OPERATION_METHODS).filter(([, name]) => {
    const [namespace, method] = name.split(".") as [string, string];
    return typeof client[namespace]?.[method] !== "function";
  });
  expect(missing).toEqual([]);
  expect(new Set(Object.values(OPERATION_METHODS)).size).toBe(Object.keys(OPERATION_METHODS).length);
});

test("the SDK's generated types are those of its openapi.json", () => {
  expect(readFileSync(GENERATED, "utf8")).toBe(generate(snapshot));
});

test("the check fails for an operation added to the API, a changed body and a removed operation", () => {
  const planted = structuredClone(live);
  planted.paths["/api/widgets"] = { post: { operationId: "postWidgets", responses: { "201": {} }, requestBody: { required: true, content: { "application/json": { schema: { type: "object" } } } } } };
  const jobs = planted.paths["/api/jobs"]!.post!;
  jobs.requestBody = { required: true, content: { "application/json": { schema: { type: "object", properties: { renamed: { type: "string" } } } } } };
  delete planted.paths["/api/verify"];
  expect(drift(planted, snapshot)).toEqual([
    "POST /api/jobs (postJobs) has a different shape in the SDK",
    "POST /api/widgets (postWidgets) is not in the SDK",
    "POST /api/widgets (postWidgets) has no SDK method",
    "GET /api/verify (getVerify) is in the SDK but no longer in the API",
  ]);
});
