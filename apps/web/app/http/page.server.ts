// The page-side twins of the API's route builder: pageLoader and pageAction require a signed-in
// user and a permission from the one table, call services directly (never the app's own /api), and
// hand form errors back to the fields they concern.
import { randomUUID } from "node:crypto";
import type { SubmissionResult } from "@conform-to/react";
import { DbError, type PrismaClient } from "@opsconductor/db";
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import type { z } from "zod";
import { db } from "../db.server.ts";
import { CSRF_FIELD, fieldMessage, INTENT_FIELD, parseForm, sentence } from "../lib/forms.ts";
import { can, type Permission } from "../lib/permissions.ts";
import { auditFor, type Audit } from "../services/audit/audit.server.ts";
import type { ClientMeta, Principal } from "../services/auth/tokens.server.ts";
import { ApiError } from "../services/errors.server.ts";
import { clientMeta } from "./api-route.server.ts";
import { BODY_LIMITS, readForm } from "./body.server.ts";
import { checkFormCsrf, requireUser, type PageData, type SessionUser } from "./web-session.server.ts";

export { redirectWithToast } from "./flash.server.ts";

/** What a page's loader or action works with. */
export interface PageContext {
  request: Request;
  params: LoaderFunctionArgs["params"];
  db: PrismaClient;
  user: SessionUser;
  /** The signed-in user as the services' permission checks expect it. */
  principal: Principal;
  meta: ClientMeta;
  /** Writes an audit row for the signed-in user. */
  audit: Audit;
  /** Headers the answer carries: refreshed session cookies, and whatever a handler adds. */
  headers: Headers;
}

/** What the 403 page shows: which permission the role lacks. */
export interface ForbiddenData {
  permission: Permission;
  role: string;
}

/** Throws the 403 page unless `user`'s role holds `permission`. */
export function requirePermission(user: Pick<SessionUser, "role">, permission: Permission | undefined): void {
  if (permission === undefined || can(user.role, permission)) return;
  throw data<ForbiddenData>({ permission, role: user.role }, { status: 403, headers: { "Cache-Control": "no-store" } });
}

async function pageContext(args: LoaderFunctionArgs | ActionFunctionArgs, permission: Permission | undefined): Promise<PageContext> {
  const { request, params, context } = args;
  const { user, headers } = await requireUser(request, context);
  requirePermission(user, permission);
  const meta = clientMeta(request, context);
  const prisma = db();
  return {
    request,
    params,
    db: prisma,
    user,
    principal: { id: user.id, username: user.username, role: user.role, via: "cookie" },
    meta,
    audit: auditFor(prisma, { id: user.id, name: user.username }, meta),
    headers,
  };
}

/** Why an address's query could not be read: what the 400 page shows. */
export interface BadQueryData {
  problems: string[];
}

/**
 * The page's query string parsed with `schema`, empty parameters (an untouched filter field)
 * left out; a value the schema refuses is the 400 page naming the parameter.
 */
export function readPageQuery<S extends z.ZodType>(request: Request, schema: S): z.output<S> {
  const params: Record<string, string> = {};
  for (const [name, value] of new URL(request.url).searchParams) if (value !== "") params[name] = value;
  const parsed = schema.safeParse(params);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "query"} ${issue.message}`);
  throw data<BadQueryData>({ problems }, { status: 400, headers: { "Cache-Control": "no-store" } });
}

/** What pageLoader builds (named, so route modules' inferred loader types stay portable). */
export type PageLoader<T> = (args: LoaderFunctionArgs) => Promise<PageData<T>>;

/** A page loader: sign-in required (else /login, coming back afterwards), then `permission`, then `load`. */
export function pageLoader<T>(options: { permission?: Permission }, load: (ctx: PageContext) => T | Promise<T>): PageLoader<T> {
  return async (args) => {
    const ctx = await pageContext(args, options.permission);
    let value: T;
    try {
      value = await load(ctx);
    } catch (error) {
      throw asPageError(error);
    }
    ctx.headers.set("Cache-Control", "no-store");
    return data(value, { headers: ctx.headers });
  };
}

/**
 * A service's refusal while loading a page, as the page's error: an unknown id (ApiError or
 * DbError 404) is the 404 page, another 4xx the page for it; anything else stays a failure (500).
 */
function asPageError(error: unknown): unknown {
  if ((error instanceof ApiError || error instanceof DbError) && error.status >= 400 && error.status < 500) {
    return data(null, { status: error.status, headers: { "Cache-Control": "no-store" } });
  }
  return error;
}

/**
 * The page address's parameters parsed with `schema` (e.g. `idParams`): an address whose id is
 * not even well-formed names nothing, so it is the 404 page like an unknown id.
 */
export function pageParams<S extends z.ZodType>(params: PageContext["params"], schema: S): z.output<S> {
  const parsed = schema.safeParse(params);
  if (!parsed.success) throw data(null, { status: 404, headers: { "Cache-Control": "no-store" } });
  return parsed.data;
}

/** A one-line message after an action, shown as a toast. */
export interface Toast {
  kind: "success" | "error";
  message: string;
}

/** What every page action answers: which form it was, that form's result for conform, a toast, and what the handler added. */
export interface ActionResult<D = unknown> {
  /** New for every answer, so a page can tell two answers with the same content apart (to empty secret fields). */
  id: string;
  intent: string | null;
  result: SubmissionResult<string[]>;
  toast: Toast | null;
  /** What the handler answered besides the form's state (a preview, a test's outcome); null when nothing. */
  data: D | null;
}

/**
 * What a handler may answer besides nothing: a toast, whether the form is emptied, `data` for the
 * page (it renders without JavaScript too, and no cache keeps it), the status (400 when `data`
 * shows a refusal), or a Response (a redirect).
 */
export type ActionOutcome<D = never> = { toast?: string; resetForm?: boolean; data?: D; status?: number } | Response | void;

/** What pageAction builds. */
export type PageAction<D = unknown> = (args: ActionFunctionArgs) => Promise<PageData<ActionResult<D>>>;

export interface PageActionOptions<S extends z.ZodType> {
  permission?: Permission;
  /** The form's schema; several forms share one page as a discriminated union on the `intent` field. */
  schema: S;
  /** Fields never echoed back, whatever happens: passwords and other secrets. */
  secretFields?: readonly string[];
  /** The largest form body this action reads (BODY_LIMITS.form unless given); more is a 413 naming the limit. */
  bodyLimit?: number;
}

// A service's refusal becomes the errors of the fields it names ("body.email" → email), or of the form.
function serviceErrors(error: unknown): { fieldErrors: Record<string, string[]>; formErrors: string[]; status: number; headers?: Record<string, string> } | null {
  if (error instanceof ApiError) {
    const fieldErrors: Record<string, string[]> = {};
    for (const detail of error.details ?? []) {
      const name = detail.path.replace(/^body\./, "");
      if (name === detail.path || name === "") continue;
      (fieldErrors[name] ??= []).push(fieldMessage(detail.message, detail.path));
    }
    const formErrors = Object.keys(fieldErrors).length === 0 ? [sentence(error.message)] : [];
    return { fieldErrors, formErrors, status: error.status, headers: error.headers };
  }
  if (error instanceof DbError) {
    if (error.field) return { fieldErrors: { [error.field]: [sentence(error.message)] }, formErrors: [], status: error.status };
    return { fieldErrors: {}, formErrors: [sentence(error.message)], status: error.status };
  }
  return null;
}

/**
 * A page action: sign-in and `permission`, the CSRF check, the form parsed with `schema` (errors
 * back to their fields, what was typed kept except secrets), then `handle` with the parsed value;
 * a service's refusal goes back to the fields it names.
 */
export function pageAction<S extends z.ZodType, D = never>(options: PageActionOptions<S>, handle: (value: z.output<S>, ctx: PageContext) => ActionOutcome<D> | Promise<ActionOutcome<D>>): PageAction<D> {
  const hidden = [CSRF_FIELD, ...(options.secretFields ?? [])];
  return async (args) => {
    const ctx = await pageContext(args, options.permission);
    ctx.headers.set("Cache-Control", "no-store");
    let form: FormData;
    try {
      form = await readForm(ctx.request, options.bodyLimit ?? BODY_LIMITS.form);
      const token = form.get(CSRF_FIELD);
      checkFormCsrf(ctx.request, typeof token === "string" ? token : null);
    } catch (error) {
      const refused = serviceErrors(error);
      if (!refused) throw error;
      const message = refused.status === 403 ? "The form did not carry this browser's security token. Reload the page and try again." : refused.formErrors[0] ?? "The form could not be read.";
      return data<ActionResult<D>>({ id: randomUUID(), intent: null, result: { status: "error", error: { "": [message] } }, toast: { kind: "error", message }, data: null }, { status: refused.status, headers: ctx.headers });
    }
    const intentValue = form.get(INTENT_FIELD);
    const intent = typeof intentValue === "string" ? intentValue : null;
    const submission = parseForm(form, options.schema);
    if (submission.status !== "success") {
      return data<ActionResult<D>>({ id: randomUUID(), intent, result: submission.reply({ hideFields: hidden }), toast: null, data: null }, { status: 400, headers: ctx.headers });
    }
    try {
      const outcome = await handle(submission.value as z.output<S>, ctx);
      if (outcome instanceof Response) {
        for (const [name, value] of ctx.headers) if (name.toLowerCase() === "set-cookie" && !outcome.headers.has("set-cookie")) outcome.headers.append(name, value);
        // Thrown, not returned: Remix follows a thrown redirect the same way, and the action's
        // type stays the page's answer alone, so useActionData<typeof action>() is typed.
        throw outcome;
      }
      const toast = outcome?.toast ? { kind: "success" as const, message: outcome.toast } : null;
      const result = outcome?.resetForm ? submission.reply({ resetForm: true }) : submission.reply({ hideFields: hidden });
      return data<ActionResult<D>>({ id: randomUUID(), intent, result, toast, data: outcome?.data ?? null }, { status: outcome?.status ?? 200, headers: ctx.headers });
    } catch (error) {
      const refused = serviceErrors(error);
      if (!refused) throw error;
      for (const [name, value] of Object.entries(refused.headers ?? {})) if (name.toLowerCase() !== "connection") ctx.headers.set(name, value);
      return data<ActionResult<D>>(
        { id: randomUUID(), intent, result: submission.reply({ fieldErrors: refused.fieldErrors, formErrors: refused.formErrors, hideFields: hidden }), toast: { kind: "error", message: refused.formErrors[0] ?? "Check the highlighted fields." }, data: null },
        { status: refused.status, headers: ctx.headers },
      );
    }
  };
}
