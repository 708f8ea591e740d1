import { apiRoute, methods } from "../http/api-route.server.ts";
import { passwordChangedReply } from "../http/session-replies.server.ts";
import { passwordChangeBody } from "../schemas/users.ts";
import { changeOwnPassword } from "../services/users/commands.server.ts";

export const action = methods({
  POST: apiRoute(
    {
      method: "POST",
      path: "/api/users/me/password",
      summary: "Change the signed-in user's password; every other session is signed out and this one gets fresh tokens",
      permission: "profile:write",
      body: passwordChangeBody,
      sessionOnly: true,
      tags: ["profile"],
    },
    async ({ request, db, principal, body, meta, audit }) => passwordChangedReply(request, principal, await changeOwnPassword(db, principal.id, body, meta, audit)),
  ),
});
