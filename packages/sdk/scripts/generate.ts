// Generates src/generated/api.ts from openapi.json (the server's /api/openapi.json, kept beside it):
// one entry per operation with its method, path and the TypeScript types of its path parameters,
// query and body, converted from the JSON Schemas the server derives from its zod schemas.
// `pnpm --filter @opsconductor/sdk generate` (also the first step of `build`); `--check` fails when
// the committed file differs from what the document gives.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

type Schema = Record<string, unknown>;
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Schema;
  description?: string;
}
interface Operation {
  operationId: string;
  summary?: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema?: Schema }> };
  responses: Record<string, { content?: Record<string, unknown> }>;
  "x-permission"?: string;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function typeName(ref: string): string {
  const name = ref.replace("#/components/schemas/", "").replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase());
  // Prefixed: a component named Error must not shadow the global Error in the generated module.
  return `Api${name[0]!.toUpperCase()}${name.slice(1)}`;
}

function key(name: string): string {
  return IDENT.test(name) ? name : JSON.stringify(name);
}

/** The TypeScript type of a JSON Schema (2020-12, as zod's toJSONSchema writes it). */
export function toType(schema: Schema | boolean | undefined, indent = ""): string {
  if (schema === undefined || schema === true) return "unknown";
  if (schema === false) return "never";
  if (typeof schema.$ref === "string") return typeName(schema.$ref);
  if ("const" in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(" | ") || "never";
  for (const union of ["anyOf", "oneOf"] as const) {
    if (Array.isArray(schema[union])) return (schema[union] as Schema[]).map((s) => wrap(toType(s, indent))).join(" | ");
  }
  if (Array.isArray(schema.allOf)) return (schema.allOf as Schema[]).map((s) => wrap(toType(s, indent))).join(" & ");
  const type = schema.type;
  if (Array.isArray(type)) return type.map((t) => toType({ ...schema, type: t }, indent)).join(" | ");
  switch (type) {
    case "string":
      return "string";
    case "number":
    case "integer":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array": {
      if (Array.isArray(schema.prefixItems)) {
        const items = (schema.prefixItems as Schema[]).map((s) => toType(s, indent));
        return `[${items.join(", ")}${schema.items ? `, ...${wrap(toType(schema.items as Schema, indent))}[]` : ""}]`;
      }
      return `${wrap(toType(schema.items as Schema | undefined, indent))}[]`;
    }
    case "object":
      return objectType(schema, indent);
    default:
      return schema.properties ? objectType(schema, indent) : "unknown";
  }
}

/** `type` in parentheses when a union or intersection at its top level would bind looser than `[]` or `|`. */
function wrap(type: string): string {
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < type.length; i++) {
    const ch = type[i]!;
    if (quoted) {
      if (ch === "\\") i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if ("{[(".includes(ch)) depth++;
    else if ("}])".includes(ch)) depth--;
    else if (depth === 0 && (ch === "|" || ch === "&")) return `(${type})`;
  }
  return type;
}

function objectType(schema: Schema, indent: string): string {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema.required ?? []) as string[]);
  const inner = `${indent}  `;
  const lines = Object.entries(properties).map(([name, prop]) => {
    const doc = typeof prop.description === "string" ? `${inner}/** ${prop.description.replace(/\*\//g, "*\\/")} */\n` : "";
    return `${doc}${inner}${key(name)}${required.has(name) ? "" : "?"}: ${toType(prop, inner)};`;
  });
  const extra = schema.additionalProperties;
  if (extra !== undefined && extra !== false) lines.push(`${inner}[key: string]: ${Object.keys(properties).length ? "unknown" : toType(extra as Schema, inner)};`);
  if (!lines.length) return extra === false ? "Record<string, never>" : "Record<string, unknown>";
  return `{\n${lines.join("\n")}\n${indent}}`;
}

/** Every operation of the document, in path order then method order. */
export function operationsOf(doc: OpenApiDocument) {
  const order = ["get", "post", "put", "patch", "delete"];
  return Object.entries(doc.paths)
    .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })))
    .sort((a, b) => a.path.localeCompare(b.path) || order.indexOf(a.method) - order.indexOf(b.method));
}

function successOf(op: Operation): { status: number; contentType: string | null } {
  const [status, response] = Object.entries(op.responses).find(([s]) => /^2\d\d$/.test(s)) ?? ["200", {}];
  return { status: Number(status), contentType: Object.keys(response.content ?? {})[0] ?? null };
}

/** The source of src/generated/api.ts for `doc`. */
export function generate(doc: OpenApiDocument): string {
  const out: string[] = [
    "// Generated by scripts/generate.ts from openapi.json: do not edit (pnpm --filter @opsconductor/sdk generate).",
    "",
  ];
  for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
    out.push(`export type ${typeName(name)} = ${toType(schema)};`, "");
  }
  const table: string[] = [];
  const types: string[] = [];
  for (const { path, method, op } of operationsOf(doc)) {
    const params = (op.parameters ?? []).filter((p) => p.in === "path");
    const query = (op.parameters ?? []).filter((p) => p.in === "query");
    const field = (p: Parameter) => `${p.description ? `/** ${p.description} */ ` : ""}${key(p.name)}${p.required ? "" : "?"}: ${toType(p.schema, "      ")};`;
    const bodyContent = op.requestBody ? Object.entries(op.requestBody.content)[0] : undefined;
    const body = !bodyContent ? "undefined" : bodyContent[0] === "application/json" ? toType(bodyContent[1].schema, "    ") : "BodyInit";
    const success = successOf(op);
    types.push(
      `  /** ${method.toUpperCase()} ${path}: ${(op.summary ?? "").replace(/\*\//g, "*\\/")} */`,
      `  ${op.operationId}: {`,
      `    params: ${params.length ? `{ ${params.map(field).join(" ")} }` : "Record<string, never>"};`,
      `    query: ${query.length ? `{ ${query.map(field).join(" ")} }` : "Record<string, never>"};`,
      `    body: ${body};`,
      `    bodyRequired: ${op.requestBody?.required ? "true" : "false"};`,
      "  };",
    );
    table.push(
      `  ${op.operationId}: { method: ${JSON.stringify(method.toUpperCase())}, path: ${JSON.stringify(path)}, status: ${success.status}, responseType: ${JSON.stringify(success.contentType)}, permission: ${JSON.stringify(op["x-permission"] ?? null)} },`,
    );
  }
  out.push(
    "/** Path parameters, query and body of every API operation, by operationId. */",
    "export interface Operations {",
    ...types,
    "}",
    "",
    "/** Every API operation: its method, path, success status, media type of the answer and the permission it needs. */",
    "export const OPERATIONS = {",
    ...table,
    "} as const;",
    "",
    "/** The operationId of an API operation. */",
    "export type OperationId = keyof typeof OPERATIONS;",
    "",
  );
  return out.join("\n");
}

const here = import.meta.dirname;
if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const doc = JSON.parse(readFileSync(join(here, "..", "openapi.json"), "utf8")) as OpenApiDocument;
  const target = join(here, "..", "src", "generated", "api.ts");
  const source = generate(doc);
  if (process.argv.includes("--check")) {
    if (readFileSync(target, "utf8") !== source) {
      console.error("src/generated/api.ts is out of date: run pnpm --filter @opsconductor/sdk generate");
      process.exit(1);
    }
  } else {
    writeFileSync(target, source);
  }
}
