// The signed-in user of a page request: the access cookie, or (when it has expired) a transparent
// refresh with the refresh cookie whose new cookies the page's response carries.
import type { AppLoadContext } from "@remix-run/node";
import { redirect, type data } from "@remix-run/node";
import { db } from "../db.server.ts";
import type { Role } from "../lib/permissions.ts";
import { recordAudit } from "./audit.server.ts";
import { ACCESS_COOKIE, authCookies, checkCsrf, clearedAuthCookies, CSRF_COOKIE, readCookie, REFRESH_COOKIE, rotateRefreshToken, verifyAccessToken, type ClientMeta } from "./auth.server.ts";

export interface SessionUser {
  id: string;
  username: string;
  displayName: string | null;
  role: Role;
}

export interface WebSession {
  user: SessionUser;
  /** The value forms echo to pass the CSRF check (the oc_csrf cookie, or its replacement). */
  csrfToken: string | null;
}

/** What a page loader returns with `data(value, { headers })`; spelled out because declarations need a portable name. */
export type PageData<T> = ReturnType<typeof data<T>>;

export interface WebSessionResult {
  session: WebSession | null;
  /** Set-Cookie headers the response must carry: refreshed tokens, or cleared stale ones. */
  headers: Headers;
}

/** A local path to send the browser to after sign-in; anything else (other sites, //host) becomes `fallback`. */
export function safeRedirect(to: unknown, fallback = "/"): string {
  if (typeof to !== "string" || !to.startsWith("/") || to.startsWith("//") || to.includes("\\") || [...to].some((c) => c.charCodeAt(0) < 32)) return fallback;
  try {
    const base = "http://local.invalid";
    const url = new URL(to, base);
    return url.origin === base ? `${url.pathname}${url.search}${url.hash}` : fallback;
  } catch {
    return fallback;
  }
}

function metaOf(request: Request, context: AppLoadContext | undefined): ClientMeta {
  return { ip: context?.clientIp ?? null, userAgent: request.headers.get("user-agent") };
}

const USER_FIELDS = { id: true, username: true, displayName: true, role: true, disabled: true, tokenVersion: true } as const;

function cookieValueIn(setCookies: string[], name: string): string | null {
  const found = setCookies.find((c) => c.startsWith(`${name}=`));
  return found ? decodeURIComponent(found.slice(name.length + 1).split(";")[0]!) : null;
}

async function resolve(request: Request, context: AppLoadContext | undefined): Promise<WebSessionResult> {
  const prisma = db();
  const headers = new Headers();
  const access = readCookie(request, ACCESS_COOKIE);
  const claims = access ? verifyAccessToken(access) : null;
  if (claims) {
    const user = await prisma.user.findUnique({ where: { id: claims.sub }, select: USER_FIELDS });
    if (user && !user.disabled && user.tokenVersion === claims.tv) {
      return { session: { user: { id: user.id, username: user.username, displayName: user.displayName, role: user.role as Role }, csrfToken: readCookie(request, CSRF_COOKIE) }, headers };
    }
  }
  const refresh = readCookie(request, REFRESH_COOKIE);
  if (refresh) {
    const meta = metaOf(request, context);
    const outcome = await rotateRefreshToken(prisma, refresh, meta);
    if (outcome.ok) {
      const user = await prisma.user.findUnique({ where: { id: outcome.user.id }, select: USER_FIELDS });
      if (user) {
        const cookies = authCookies(request, outcome.tokens);
        for (const c of cookies) headers.append("Set-Cookie", c);
        return { session: { user: { id: user.id, username: user.username, displayName: user.displayName, role: user.role as Role }, csrfToken: cookieValueIn(cookies, CSRF_COOKIE) }, headers };
      }
    } else if (outcome.reason === "reused") {
      await recordAudit(prisma, { actor: { id: outcome.userId ?? null, name: outcome.username ?? null }, action: "auth.refresh_reused", entityType: "user", entityId: outcome.userId ?? null, summary: `a spent refresh token of ${outcome.username} was presented again; its session was revoked`, ...meta });
    }
  }
  if (access || refresh) for (const c of clearedAuthCookies(request)) headers.append("Set-Cookie", c);
  return { session: null, headers };
}

// Every loader of a page runs at once, and a refresh token works once: they must share one lookup.
const resolved = new WeakMap<object, Promise<WebSessionResult>>();

/** The signed-in user of a page request, refreshing the tokens when the access cookie has expired. */
export function getWebSession(request: Request, context: AppLoadContext | undefined): Promise<WebSessionResult> {
  const key: object = context ?? request;
  let pending = resolved.get(key);
  if (!pending) {
    pending = resolve(request, context);
    resolved.set(key, pending);
  }
  return pending;
}

/** The path and query a page request was made for (data requests of client navigations included). */
function pagePath(request: Request): string {
  const url = new URL(request.url);
  url.searchParams.delete("_routes");
  const path = url.pathname.replace(/\.data$/, "").replace(/^\/_root$/, "/");
  return `${path}${url.search}`;
}

/** For page loaders: the signed-in user, or a redirect to /login that comes back here afterwards. */
export async function requireUser(request: Request, context: AppLoadContext | undefined): Promise<WebSession & { headers: Headers }> {
  const { session, headers } = await getWebSession(request, context);
  if (session) return { ...session, headers };
  const back = pagePath(request);
  const location = back === "/" ? "/login" : `/login?redirectTo=${encodeURIComponent(back)}`;
  throw redirect(location, { headers });
}

/**
 * CSRF check for page forms: whenever the browser holds any of our auth cookies, the form must echo
 * the oc_csrf cookie's value (double submit), whether or not the access token is still valid.
 */
export function checkFormCsrf(request: Request, formToken: string | null): void {
  const hasSession = [ACCESS_COOKIE, REFRESH_COOKIE, CSRF_COOKIE].some((name) => readCookie(request, name) !== null);
  checkCsrf(request, hasSession ? { id: "", username: "", role: "viewer", via: "cookie" } : null, formToken);
}
