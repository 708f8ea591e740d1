import { apiRoute, methods } from "../http/api-route.server.ts";
import { revokedReply } from "../http/session-replies.server.ts";
import { revokeAllBody } from "../schemas/auth.ts";
import { revokeAllSessions } from "../services/auth/sign-in.server.ts";

export const action = methods({
  POST: apiRoute(
    { method: "POST", path: "/api/revoke-all", summary: "Invalidate every token of the caller, or of another user (admin)", permission: "authenticated", body: revokeAllBody, sessionOnly: true, tags: ["auth"] },
    async ({ request, body, principal, db, audit }) => revokedReply(request, await revokeAllSessions(db, principal, body?.userId, audit)),
  ),
});
