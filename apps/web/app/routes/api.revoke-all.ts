import { z } from "zod";
import { can } from "../lib/permissions.ts";
import { apiRoute, methods } from "../server/api.server.ts";
import { clearedAuthCookies, revokeAllTokens, SESSION_TX } from "../server/auth.server.ts";
import { ApiError, notFound } from "../server/errors.server.ts";

const body = z.object({ userId: z.uuid({ error: "must be a user id (UUID)" }).optional() }).optional();

export const action = methods({
  POST: apiRoute(
    { method: "POST", path: "/api/revoke-all", summary: "Invalidate every token of the caller, or of another user (admin)", permission: "authenticated", body, tags: ["auth"] },
    async ({ request, body, principal, db, audit }) => {
      const userId = body?.userId ?? principal.id;
      if (userId !== principal.id && !can(principal.role, "users:write")) throw new ApiError(403, "forbidden", "only an admin may revoke another user's tokens");
      const user = await db.user.findUnique({ where: { id: userId }, select: { id: true, username: true } });
      if (!user) throw notFound("user");
      await db.$transaction(async (tx) => {
        await revokeAllTokens(tx, user.id);
        await audit({ action: "auth.revoke_all", entityType: "user", entityId: user.id, summary: `${principal.username} revoked every token of ${user.username}` }, tx);
      }, SESSION_TX);
      const res = Response.json({ revoked: true, userId: user.id }, { headers: { "Cache-Control": "no-store" } });
      if (user.id === principal.id) for (const c of clearedAuthCookies(request)) res.headers.append("Set-Cookie", c);
      return res;
    },
  ),
});
