import { apiRoute, methods } from "../http/api-route.server.ts";
import { readCookie, REFRESH_COOKIE } from "../http/auth.server.ts";
import { refreshedReply } from "../http/session-replies.server.ts";
import { refreshBody } from "../schemas/auth.ts";
import { refreshSession } from "../services/auth/sign-in.server.ts";

export const action = methods({
  POST: apiRoute(
    { method: "POST", path: "/api/refresh", summary: "Exchange a refresh token (body or cookie) for a new token pair; each works once", permission: "public", body: refreshBody, tags: ["auth"] },
    async ({ request, body, db, meta, audit }) => refreshedReply(request, await refreshSession(db, body?.refreshToken ?? readCookie(request, REFRESH_COOKIE), meta, audit)),
  ),
});
