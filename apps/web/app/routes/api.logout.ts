import { apiRoute, methods } from "../http/api-route.server.ts";
import { readCookie, REFRESH_COOKIE } from "../http/auth.server.ts";
import { signedOutReply } from "../http/session-replies.server.ts";
import { logoutBody } from "../schemas/auth.ts";
import { signOut } from "../services/auth/sign-in.server.ts";

export const action = methods({
  POST: apiRoute(
    { method: "POST", path: "/api/logout", summary: "Sign out: revoke this session's refresh tokens and clear the cookies", permission: "public", optionalAuth: true, body: logoutBody, tags: ["auth"] },
    async ({ request, body, principal, db, audit }) => {
      await signOut(db, body?.refreshToken ?? readCookie(request, REFRESH_COOKIE), principal, audit);
      return signedOutReply(request);
    },
  ),
});
