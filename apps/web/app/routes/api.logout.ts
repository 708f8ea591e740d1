import { z } from "zod";
import { apiRoute, methods } from "../server/api.server.ts";
import { clearedAuthCookies, readCookie, REFRESH_COOKIE, revokeRefreshFamily } from "../server/auth.server.ts";

const body = z.object({ refreshToken: z.string().min(1).max(200).optional() }).optional();

export const action = methods({
  POST: apiRoute(
    { method: "POST", path: "/api/logout", summary: "Sign out: revoke this session's refresh tokens and clear the cookies", permission: "public", optionalAuth: true, body, tags: ["auth"] },
    async ({ request, body, principal, db, audit }) => {
      const token = body?.refreshToken ?? readCookie(request, REFRESH_COOKIE);
      if (token) await revokeRefreshFamily(db, token);
      if (principal) await audit({ action: "auth.logout", entityType: "user", entityId: principal.id, summary: `${principal.username} signed out` });
      const res = new Response(null, { status: 204, headers: { "Cache-Control": "no-store" } });
      for (const c of clearedAuthCookies(request)) res.headers.append("Set-Cookie", c);
      return res;
    },
  ),
});
