// /api/openapi.json, generated from the definitions every API route module exports (loader and action
// are built by apiRoute/methods, which keep what each route declares in `.definitions`).
import { z } from "zod";
import type { ApiHandler, RouteDefinition } from "./api-route.server.ts";
import { ACCESS_COOKIE, CSRF_HEADER } from "./auth.server.ts";

/** A route definition with what OpenAPI needs beyond the builder's fields (for non-JSON answers). */
export type DocumentedRoute = RouteDefinition<z.ZodType, z.ZodType, z.ZodType, boolean> & {
  /** Media type of a successful answer when it is not JSON, e.g. text/event-stream. */
  responseContentType?: string;
};

type JsonSchema = Record<string, unknown>;
type RouteModule = { loader?: Partial<ApiHandler>; action?: Partial<ApiHandler> };

const API_VERSION = "0.1.0";
const METHOD_ORDER = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const STATUS_TEXT: Record<number, string> = { 200: "OK", 201: "Created", 202: "Accepted", 204: "No content" };
const ERROR_REF = { $ref: "#/components/schemas/Error" };

// The openapi route itself is left out here (it would import itself); it adds its own definition.
const modules = import.meta.glob<RouteModule>(["../routes/api.*.ts", "!../routes/api.openapi*"], { eager: true });

/** Every definition of every API route module, in path order. */
export function routeDefinitions(extra: DocumentedRoute[] = []): DocumentedRoute[] {
  const all = [...extra];
  for (const module of Object.values(modules)) {
    for (const handler of [module.loader, module.action]) {
      if (Array.isArray(handler?.definitions)) all.push(...(handler.definitions as DocumentedRoute[]));
    }
  }
  return all.sort((a, b) => a.path.localeCompare(b.path) || METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method));
}

function operationId(definition: DocumentedRoute): string {
  const words = definition.path
    .split("/")
    .filter((part) => part && part !== "api")
    .map((part) => (part.startsWith("{") ? `by-${part.slice(1, -1)}` : part))
    .join("-")
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  return [definition.method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join("");
}

// Converts a request schema (its input side: what a client sends) to JSON Schema 2020-12, the
// dialect of OpenAPI 3.1; `$defs` move to components so "#/..." references resolve in the document.
function toSchema(schema: z.ZodType, prefix: string, components: Record<string, JsonSchema>): JsonSchema {
  const json = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", unrepresentable: "any" }) as JsonSchema;
  delete json.$schema;
  const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
  delete json.$defs;
  const rootName = `${prefix}`;
  let usesRoot = false;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (!value || typeof value !== "object") return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => {
        if (key === "$ref" && typeof inner === "string") {
          if (inner === "#") {
            usesRoot = true;
            return [key, `#/components/schemas/${rootName}`];
          }
          if (inner.startsWith("#/$defs/")) return [key, `#/components/schemas/${prefix}_${inner.slice("#/$defs/".length)}`];
        }
        return [key, rewrite(inner)];
      }),
    );
  };
  for (const [name, def] of Object.entries(defs)) components[`${prefix}_${name}`] = rewrite(def) as JsonSchema;
  const root = rewrite(json) as JsonSchema;
  if (!usesRoot) return root;
  components[rootName] = root;
  return { $ref: `#/components/schemas/${rootName}` };
}

function errorResponse(description: string) {
  return { description, content: { "application/json": { schema: ERROR_REF } } };
}

function operation(definition: DocumentedRoute, id: string, components: Record<string, JsonSchema>) {
  const parameters: JsonSchema[] = [];
  const pathNames = [...definition.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  const paramSchema = definition.params ? toSchema(definition.params, `${id}_params`, components) : {};
  const paramProps = (paramSchema.properties ?? {}) as Record<string, JsonSchema>;
  for (const name of pathNames) {
    const { description, ...schema } = paramProps[name] ?? { type: "string" };
    parameters.push({ name, in: "path", required: true, schema, ...(description ? { description } : {}) });
  }
  if (definition.query) {
    const query = toSchema(definition.query, `${id}_query`, components);
    const required = new Set((query.required ?? []) as string[]);
    for (const [name, prop] of Object.entries((query.properties ?? {}) as Record<string, JsonSchema>)) {
      const { description, ...schema } = prop;
      parameters.push({ name, in: "query", required: required.has(name), schema, ...(description ? { description } : {}) });
    }
  }
  const status = definition.status ?? 200;
  const success =
    status === 204
      ? { description: STATUS_TEXT[204] }
      : { description: STATUS_TEXT[status] ?? "Success", content: { [definition.responseContentType ?? "application/json"]: { schema: definition.responseContentType ? { type: "string" } : {} } } };
  const responses: Record<string, unknown> = { [String(status)]: success };
  if (definition.params || definition.query || definition.body || definition.rawBody) responses["400"] = errorResponse("Invalid input; the details name each bad field");
  if (definition.permission !== "public") responses["401"] = errorResponse("Not signed in, or the token is invalid");
  if (definition.permission !== "public" && definition.permission !== "authenticated") responses["403"] = errorResponse(`The caller's role lacks ${definition.permission}`);
  if (pathNames.length > 0) responses["404"] = errorResponse("Not found");
  if (definition.rawBody) responses["413"] = errorResponse("The body is larger than the server accepts");
  responses.default = errorResponse("Any other error");

  const auth = [{ bearerAuth: [] }, { cookieAuth: [] }];
  return {
    operationId: id,
    summary: definition.summary,
    ...(definition.tags?.length ? { tags: definition.tags } : {}),
    "x-permission": definition.permission,
    ...(definition.sessionOnly ? { "x-session-only": true } : {}),
    security: definition.permission === "public" ? (definition.optionalAuth ? [{}, ...auth] : []) : auth,
    ...(parameters.length ? { parameters } : {}),
    ...(definition.rawBody
      ? { requestBody: { required: true, description: definition.rawBody.description, content: { [definition.rawBody.contentType]: { schema: { type: "string", contentMediaType: definition.rawBody.contentType } } } } }
      : {}),
    ...(definition.body
      ? {
          requestBody: {
            required: !definition.body.safeParse(undefined).success,
            content: { "application/json": { schema: toSchema(definition.body, `${id}_body`, components) } },
          },
        }
      : {}),
    responses,
  };
}

let cached: ReturnType<typeof buildDocument> | undefined;

/** The OpenAPI 3.1 document of every /api route, plus `extra` definitions; built once per process. */
export function openApiDocument(extra: DocumentedRoute[] = []) {
  cached ??= buildDocument(extra);
  return cached;
}

function buildDocument(extra: DocumentedRoute[]) {
  const components: Record<string, JsonSchema> = {
    Error: {
      type: "object",
      required: ["error"],
      properties: {
        error: {
          type: "object",
          required: ["code", "message"],
          properties: {
            code: { type: "string", description: "Stable machine-readable code, e.g. validation_failed" },
            message: { type: "string" },
            details: { type: "array", items: { type: "object", required: ["path", "message"], properties: { path: { type: "string" }, message: { type: "string" } } } },
          },
        },
      },
    },
  };
  const paths: Record<string, Record<string, unknown>> = {};
  const used = new Set<string>();
  for (const definition of routeDefinitions(extra)) {
    let id = operationId(definition);
    for (let n = 2; used.has(id); n++) id = `${operationId(definition)}${n}`;
    used.add(id);
    (paths[definition.path] ??= {})[definition.method.toLowerCase()] = operation(definition, id, components);
  }
  return {
    openapi: "3.1.0",
    info: { title: "OpsConductor API", version: API_VERSION, description: "Errors share one shape (components.schemas.Error). x-permission names the permission each operation needs." },
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "Access token from POST /api/login or POST /api/refresh" },
        cookieAuth: { type: "apiKey", in: "cookie", name: ACCESS_COOKIE, description: `The browser's access-token cookie; unsafe methods also need the ${CSRF_HEADER} header` },
      },
    },
  };
}
