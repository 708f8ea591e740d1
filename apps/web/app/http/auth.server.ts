// How a request proves who it is: a Bearer access token or the browser's cookies, the CSRF check
// of cookie-authenticated mutations, and the cookies that carry a session's tokens.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Db } from "@opsconductor/db";
import { env } from "../env.server.ts";
import type { Role } from "../lib/permissions.ts";
import { sessionEnd, verifyAccessToken, type IssuedTokens, type Principal } from "../services/auth/tokens.server.ts";
import { ApiError } from "../services/errors.server.ts";
import { apiTokenPrincipal, isApiToken } from "../services/tokens/tokens.server.ts";

export const ACCESS_COOKIE = "oc_access";
export const REFRESH_COOKIE = "oc_refresh";
export const CSRF_COOKIE = "oc_csrf";
export const CSRF_HEADER = "x-csrf-token";
/** Reads one cookie from a request. */
export function readCookie(request: Request, name: string): string | null {
  const header = request.headers.get("cookie");
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

function bearer(request: Request): string | null {
  const header = request.headers.get("authorization");
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new ApiError(401, "unauthenticated", 'the Authorization header must be "Bearer <access token or API token>"');
  return match[1]!;
}

/** The principal of a request (Bearer access or API token first, then the access cookie), or null. */
export async function authenticate(request: Request, db: Db): Promise<Principal | null> {
  const fromHeader = bearer(request);
  if (fromHeader && isApiToken(fromHeader)) return apiTokenPrincipal(db, fromHeader);
  const token = fromHeader ?? readCookie(request, ACCESS_COOKIE);
  if (!token) return null;
  const claims = verifyAccessToken(token);
  if (!claims) {
    if (fromHeader) throw new ApiError(401, "invalid_token", "the access token is invalid or has expired; refresh it with POST /api/refresh");
    return null;
  }
  const user = await db.user.findUnique({ where: { id: claims.sub }, select: { id: true, username: true, role: true, disabled: true, tokenVersion: true } });
  if (!user || sessionEnd(user, claims)) {
    if (fromHeader) throw new ApiError(401, "invalid_token", "the access token was revoked; refresh it with POST /api/refresh, or sign in again");
    return null;
  }
  return { id: user.id, username: user.username, role: user.role as Role, via: fromHeader ? "bearer" : "cookie", token: claims };
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Cross-site request forgery defence for cookie-authenticated mutations: the browser must echo the
 * readable CSRF cookie in a header (double submit), and a foreign Origin is refused outright.
 * Bearer-token clients are not affected: a browser never attaches that header on its own.
 */
export function checkCsrf(request: Request, principal: Principal | null, formToken?: string | null): void {
  if (!UNSAFE.has(request.method)) return;
  if (principal?.via === "bearer") return;
  const origin = request.headers.get("origin");
  // Behind a TLS-terminating proxy the app sees http://internal-host; the browser's origin is the public URL.
  const publicOrigin = env().OPSCONDUCTOR_PUBLIC_URL ? new URL(env().OPSCONDUCTOR_PUBLIC_URL!).origin : null;
  if (origin && origin !== "null" && origin !== new URL(request.url).origin && origin !== publicOrigin) {
    throw new ApiError(403, "csrf_failed", `requests from ${origin} may not act on this site`);
  }
  if (principal?.via !== "cookie") return;
  const cookie = readCookie(request, CSRF_COOKIE);
  const sent = request.headers.get(CSRF_HEADER) ?? formToken ?? null;
  if (!cookie || !sent || cookie.length !== sent.length || !timingSafeEqual(Buffer.from(cookie), Buffer.from(sent))) {
    throw new ApiError(403, "csrf_failed", `cookie-authenticated requests must send the ${CSRF_COOKIE} cookie's value in the X-CSRF-Token header`);
  }
}

function secureCookies(request: Request): boolean {
  const configured = env().OPSCONDUCTOR_PUBLIC_URL;
  if (configured) return configured.startsWith("https:");
  return new URL(request.url).protocol === "https:";
}

/** A Set-Cookie value for the whole site, SameSite=Lax. */
export function cookie(name: string, value: string, maxAgeSec: number, options: { httpOnly: boolean; secure: boolean }): string {
  return [
    `${name}=${encodeURIComponent(value)}`,
    "Path=/",
    `Max-Age=${maxAgeSec}`,
    "SameSite=Lax",
    ...(options.httpOnly ? ["HttpOnly"] : []),
    ...(options.secure ? ["Secure"] : []),
  ].join("; ");
}

/** Set-Cookie headers carrying a new token pair and a fresh CSRF token. */
export function authCookies(request: Request, tokens: IssuedTokens): string[] {
  const secure = secureCookies(request);
  return [
    cookie(ACCESS_COOKIE, tokens.accessToken, tokens.expiresIn, { httpOnly: true, secure }),
    cookie(REFRESH_COOKIE, tokens.refreshToken, tokens.refreshExpiresIn, { httpOnly: true, secure }),
    cookie(CSRF_COOKIE, randomBytes(24).toString("base64url"), tokens.refreshExpiresIn, { httpOnly: false, secure }),
  ];
}

/** Set-Cookie headers that remove every auth cookie. */
export function clearedAuthCookies(request: Request): string[] {
  const secure = secureCookies(request);
  return [ACCESS_COOKIE, REFRESH_COOKIE, CSRF_COOKIE].map((name) => cookie(name, "", 0, { httpOnly: name !== CSRF_COOKIE, secure }));
}
