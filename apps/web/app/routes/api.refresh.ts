import { z } from "zod";
import { apiRoute, methods } from "../server/api.server.ts";
import { authCookies, clearedAuthCookies, readCookie, REFRESH_COOKIE, rotateRefreshToken } from "../server/auth.server.ts";
import { ApiError } from "../server/errors.server.ts";
import { signedInResponse } from "../server/session.server.ts";

const body = z.object({ refreshToken: z.string().min(1).max(200).optional() }).optional();

const REASONS = {
  unknown: "this refresh token is not valid",
  expired: "this refresh token has expired; sign in again",
  revoked: "this refresh token was revoked; sign in again",
  reused: "this refresh token was already used, so every token of its session has been revoked; sign in again",
  disabled: "this account is disabled",
} as const;

export const action = methods({
  POST: apiRoute(
    { method: "POST", path: "/api/refresh", summary: "Exchange a refresh token (body or cookie) for a new token pair; each works once", permission: "public", body, tags: ["auth"] },
    async ({ request, body, db, meta, audit }) => {
      const token = body?.refreshToken ?? readCookie(request, REFRESH_COOKIE);
      if (!token) throw new ApiError(400, "validation_failed", "send refreshToken in the body, or the refresh cookie", { details: [{ path: "body.refreshToken", message: "body.refreshToken is required" }] });
      const outcome = await rotateRefreshToken(db, token, meta);
      if (!outcome.ok) {
        if (outcome.reason === "reused") {
          await audit({ actor: { id: outcome.userId ?? null, name: outcome.username ?? null }, action: "auth.refresh_reused", entityType: "user", entityId: outcome.userId ?? null, summary: `a spent refresh token of ${outcome.username} was presented again; its session was revoked` });
        }
        const headers: Record<string, string> = {};
        const res = Response.json({ error: { code: "invalid_refresh_token", message: REASONS[outcome.reason] } }, { status: 401, headers });
        for (const c of clearedAuthCookies(request)) res.headers.append("Set-Cookie", c);
        return res;
      }
      return signedInResponse(request, { tokens: outcome.tokens, user: { ...outcome.user, displayName: null } }, authCookies(request, outcome.tokens));
    },
  ),
});
