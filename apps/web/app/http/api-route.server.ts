// One builder for every /api route: authentication, the permission check, CSRF, zod parsing of
// params, query and body, and the mapping of thrown errors to the error shape. Routes stay thin.
import type { PrismaClient } from "@opsconductor/db";
import type { ActionFunctionArgs, AppLoadContext, LoaderFunctionArgs } from "@remix-run/node";
import type { z } from "zod";
import { db } from "../db.server.ts";
import { can, type Permission } from "../lib/permissions.ts";
import { auditFor, type Audit } from "../services/audit/audit.server.ts";
import type { ClientMeta, Principal } from "../services/auth/tokens.server.ts";
import { authenticate, checkCsrf } from "./auth.server.ts";
import { ApiError, validationFailed, zodIssueDetails } from "../services/errors.server.ts";
import { BODY_LIMITS, readText } from "./body.server.ts";
import { toErrorResponse } from "./errors.server.ts";
import { setRequestUser } from "./observability.server.ts";

declare module "@remix-run/node" {
  interface AppLoadContext {
    clientIp: string | null;
    cspNonce: string;
    /** Aborted when the client's connection closes (server.ts says why request.signal is not enough). */
    connectionClosed?: AbortSignal;
  }
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** What a route declares; the builder enforces it and /api/openapi.json describes it. */
export interface RouteDefinition<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, A extends boolean> {
  method: Method;
  /** OpenAPI-style path, e.g. /api/users/{id}. */
  path: string;
  summary: string;
  /** Required permission; "authenticated" for any signed-in user, "public" for none. */
  permission: Permission | "authenticated" | "public";
  params?: P;
  query?: Q;
  body?: B;
  /**
   * The route reads its own body as a byte stream (an upload; see streamBody): the builder leaves it
   * unread, and OpenAPI documents it with this media type. Not combined with `body`.
   */
  rawBody?: { contentType: string; description: string };
  /** Status of a successful answer (200 unless stated). */
  status?: number;
  /**
   * Refused (403) to a request presenting an API token: the token and password endpoints, so that a
   * leaked token cannot mint more tokens or take over its owner's sign-in. A function decides per body.
   */
  sessionOnly?: boolean | ((body: unknown) => boolean);
  /** Allows a route whose permission is "public" to see a principal when there is one. */
  optionalAuth?: A;
  tags?: string[];
}

export interface RouteContext<P, Q, B, Principalish> {
  request: Request;
  params: P;
  query: Q;
  body: B;
  principal: Principalish;
  db: PrismaClient;
  meta: ClientMeta;
  /** Aborted when the client has gone away. */
  signal: AbortSignal;
  /** Writes an audit row for this request's principal; pass `tx` to write it inside a transaction. */
  audit: Audit;
}

/** A handler's answer with a status, body or headers of its own (several Set-Cookie headers among them). */
export class ApiReply {
  readonly status: number;
  readonly body: unknown;
  readonly headers: readonly (readonly [string, string])[];
  constructor(status: number, body: unknown, headers: readonly (readonly [string, string])[]) {
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/**
 * What a handler returns when the route's fixed status is not the answer: `status` (default 200),
 * a JSON `body` (none: an empty answer), extra `headers` and `cookies` (one Set-Cookie header each).
 */
export function reply(init: { status?: number; body?: unknown; headers?: Record<string, string>; cookies?: readonly string[] }): ApiReply {
  const headers = [...Object.entries(init.headers ?? {}), ...(init.cookies ?? []).map((c) => ["Set-Cookie", c] as const)];
  return new ApiReply(init.status ?? 200, init.body, headers);
}

function replyResponse(result: ApiReply): Response {
  const headers = new Headers({ "Cache-Control": "no-store" });
  for (const [name, value] of result.headers) headers.append(name, value);
  if (result.body === undefined) return new Response(null, { status: result.status, headers });
  return Response.json(result.body, { status: result.status, headers });
}

export interface ApiHandler {
  (args: LoaderFunctionArgs | ActionFunctionArgs): Promise<Response>;
  definitions: RouteDefinition<z.ZodType, z.ZodType, z.ZodType, boolean>[];
}

function parsePart<T extends z.ZodType>(schema: T | undefined, value: unknown, part: string): z.infer<T> {
  if (!schema) return undefined as z.infer<T>;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationFailed(zodIssueDetails(result.error, part));
}

function queryObject(url: URL): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const existing = out[k];
    out[k] = existing === undefined ? v : Array.isArray(existing) ? [...existing, v] : [existing, v];
  }
  return out;
}

async function readJson(request: Request): Promise<unknown> {
  const text = await readText(request, BODY_LIMITS.api);
  if (text.trim() === "") return undefined;
  const type = request.headers.get("content-type") ?? "";
  if (type && !/^application\/(.+\+)?json\b/i.test(type)) {
    throw new ApiError(415, "unsupported_media_type", `send the body as application/json (got ${type.split(";")[0]})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, "invalid_json", `the request body is not valid JSON: ${(error as Error).message}`);
  }
}

const sessionRequired = () => new ApiError(403, "session_required", "API tokens may not be used here: sign in with a password (POST /api/login) and use that session's access token");

/** The caller's address and user agent, for audit rows and throttling. */
export function clientMeta(request: Request, context: AppLoadContext | undefined): ClientMeta {
  return { ip: context?.clientIp ?? null, userAgent: request.headers.get("user-agent") };
}

/** Builds a loader/action for one method of one route. */
export function apiRoute<P extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined, B extends z.ZodType = z.ZodUndefined, A extends boolean = false>(
  definition: RouteDefinition<P, Q, B, A>,
  handler: (ctx: RouteContext<z.infer<P>, z.infer<Q>, z.infer<B>, A extends true ? Principal | null : Principal>) => unknown,
): ApiHandler {
  const run = async ({ request, params, context }: LoaderFunctionArgs | ActionFunctionArgs): Promise<Response> => {
    try {
      if (request.method !== definition.method && !(definition.method === "GET" && request.method === "HEAD")) {
        throw new ApiError(405, "method_not_allowed", `${request.method} is not supported here`);
      }
      const prisma = db();
      const principal = await authenticate(request, prisma);
      setRequestUser(principal?.id);
      if (definition.permission !== "public") {
        if (!principal) throw new ApiError(401, "unauthenticated", "sign in first: send Authorization: Bearer <access token>");
        if (definition.permission !== "authenticated" && !can(principal.role, definition.permission)) {
          throw new ApiError(403, "forbidden", `the ${principal.role} role may not do this (needs ${definition.permission})`);
        }
      }
      checkCsrf(request, principal);
      if (principal?.apiTokenId && definition.sessionOnly === true) throw sessionRequired();
      const parsedParams = parsePart(definition.params, params, "params");
      const parsedQuery = parsePart(definition.query, queryObject(new URL(request.url)), "query");
      const rawBody = definition.body ? await readJson(request) : undefined;
      if (definition.body && rawBody === undefined && !definition.body.safeParse(undefined).success) throw new ApiError(400, "validation_failed", "the request needs a JSON body", { details: [{ path: "body", message: "body is required" }] });
      const parsedBody = parsePart(definition.body, rawBody, "body");
      if (principal?.apiTokenId && typeof definition.sessionOnly === "function" && definition.sessionOnly(parsedBody)) throw sessionRequired();
      const meta = clientMeta(request, context);
      const audit = auditFor(prisma, principal ? { id: principal.id, name: principal.username } : null, meta);
      const result = await handler({
        request,
        params: parsedParams,
        query: parsedQuery,
        body: parsedBody,
        principal: principal as A extends true ? Principal | null : Principal,
        db: prisma,
        meta,
        signal: context?.connectionClosed ?? request.signal,
        audit,
      });
      // A Response only for answers that are not JSON (an event stream); everything else is a value or a reply.
      if (result instanceof Response) return result;
      if (result instanceof ApiReply) return replyResponse(result);
      const status = definition.status ?? 200;
      if (status === 204) return new Response(null, { status, headers: { "Cache-Control": "no-store" } });
      return Response.json(result ?? null, { status, headers: { "Cache-Control": "no-store" } });
    } catch (error) {
      return toErrorResponse(error);
    }
  };
  return Object.assign(run, { definitions: [definition as RouteDefinition<z.ZodType, z.ZodType, z.ZodType, boolean>] });
}

/** Dispatches an action by HTTP method to the routes built for each; other methods get a 405. */
export function methods(handlers: Partial<Record<Exclude<Method, "GET">, ApiHandler>>): ApiHandler {
  const run = async (args: ActionFunctionArgs) => {
    const handler = handlers[args.request.method as Exclude<Method, "GET">];
    if (!handler) {
      return toErrorResponse(new ApiError(405, "method_not_allowed", `${args.request.method} is not supported here; use ${Object.keys(handlers).join(", ")}`));
    }
    return handler(args);
  };
  return Object.assign(run, { definitions: Object.values(handlers).flatMap((h) => h!.definitions) });
}
