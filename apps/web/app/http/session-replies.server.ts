// The API's answers that carry session cookies: sign-in and refresh (tokens in the body and in
// cookies), refusals and sign-out (cookies cleared).
import type { Refreshed, SignedIn } from "../services/auth/sign-in.server.ts";
import type { IssuedTokens, Principal } from "../services/auth/tokens.server.ts";
import { authCookies, clearedAuthCookies } from "./auth.server.ts";
import { reply, type ApiReply } from "./api-route.server.ts";

/** The answer of every sign-in: the tokens in the body and in cookies. */
export function signedInReply(request: Request, { tokens, user }: SignedIn): ApiReply {
  return reply({
    body: { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresIn: tokens.expiresIn, user: { id: user.id, username: user.username, role: user.role } },
    cookies: authCookies(request, tokens),
  });
}

/** A refresh's answer: signed in again, or a 401 that clears the cookies. */
export function refreshedReply(request: Request, refreshed: Refreshed): ApiReply {
  if (refreshed.ok) return signedInReply(request, refreshed.signedIn);
  return reply({ status: 401, body: { error: { code: "invalid_refresh_token", message: refreshed.message } }, cookies: clearedAuthCookies(request) });
}

/** An empty 204 that clears every auth cookie. */
export function signedOutReply(request: Request): ApiReply {
  return reply({ status: 204, cookies: clearedAuthCookies(request) });
}

/** The answer of revoke-all: the caller's own cookies are cleared when it revoked its own tokens. */
export function revokedReply(request: Request, revoked: { revoked: true; userId: string; own: boolean }): ApiReply {
  return reply({ body: { revoked: revoked.revoked, userId: revoked.userId }, cookies: revoked.own ? clearedAuthCookies(request) : [] });
}

/** After a password change: fresh tokens in the body, and in cookies for a browser session. */
export function passwordChangedReply(request: Request, principal: Principal, tokens: IssuedTokens): ApiReply {
  return reply({ body: { changed: true, ...tokens }, cookies: principal.via === "cookie" ? authCookies(request, tokens) : [] });
}
