// The signed-in user of a page request: the access cookie, or (when it has expired) a transparent
// refresh with the refresh cookie whose new cookies the page's response carries.
import type { AppLoadContext } from "@remix-run/node";
import { redirect, type data } from "@remix-run/node";
import { db } from "../db.server.ts";
import { ApiError } from "../services/errors.server.ts";
import type { Role } from "../lib/permissions.ts";
import { auditFor } from "../services/audit/audit.server.ts";
import { refreshSession } from "../services/auth/sign-in.server.ts";
import { verifyAccessToken, type IssuedTokens } from "../services/auth/tokens.server.ts";
import { ACCESS_COOKIE, authCookies, checkCsrf, clearedAuthCookies, CSRF_COOKIE, readCookie, REFRESH_COOKIE } from "./auth.server.ts";
import { clientMeta } from "./api-route.server.ts";
import { BODY_LIMITS, readForm } from "./body.server.ts";
import { setRequestUser } from "./observability.server.ts";

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
    const meta = clientMeta(request, context);
    const refreshed = await refreshSession(prisma, refresh, meta, auditFor(prisma, null, meta));
    if (refreshed.ok) {
      const user = await prisma.user.findUnique({ where: { id: refreshed.signedIn.user.id }, select: USER_FIELDS });
      if (user) {
        const cookies = authCookies(request, refreshed.signedIn.tokens);
        for (const c of cookies) headers.append("Set-Cookie", c);
        return { session: { user: { id: user.id, username: user.username, displayName: user.displayName, role: user.role as Role }, csrfToken: cookieValueIn(cookies, CSRF_COOKIE) }, headers };
      }
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
    pending = resolve(request, context).then((result) => {
      setRequestUser(result.session?.user.id);
      return result;
    });
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

/**
 * Checks the sign-out form (a POST of at most BODY_LIMITS.form bytes echoing the CSRF token): null
 * when it passes, else the plain-text answer that says why not.
 */
export async function refuseSignOutForm(request: Request): Promise<Response | null> {
  if (request.method !== "POST") return new Response("Sign out with POST.", { status: 405, headers: { Allow: "POST" } });
  try {
    const form = await readForm(request, BODY_LIMITS.form);
    const csrf = form.get("csrf");
    checkFormCsrf(request, typeof csrf === "string" ? csrf : null);
    return null;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const message = error.status === 403 ? "Sign-out refused: the form did not carry this browser's security token. Reload the page and sign out again." : `Sign-out refused: ${error.message}.`;
    return new Response(message, {
      status: error.status,
      headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", ...error.headers },
    });
  }
}

/** Headers of a page answer that signs the browser out: every auth cookie cleared, nothing cached. */
export function signedOutHeaders(request: Request): Headers {
  const headers = new Headers({ "Cache-Control": "no-store" });
  for (const c of clearedAuthCookies(request)) headers.append("Set-Cookie", c);
  return headers;
}

/** Headers of a page answer that signs the browser in with `tokens`. */
export function signedInHeaders(request: Request, tokens: IssuedTokens): Headers {
  const headers = new Headers({ "Cache-Control": "no-store" });
  for (const c of authCookies(request, tokens)) headers.append("Set-Cookie", c);
  return headers;
}
