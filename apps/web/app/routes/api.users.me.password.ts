import { apiRoute, methods } from "../server/api.server.ts";
import { authCookies } from "../server/auth.server.ts";
import { changeOwnPassword, passwordChangeBody } from "../server/users.server.ts";

export const action = methods({
  POST: apiRoute(
    {
      method: "POST",
      path: "/api/users/me/password",
      summary: "Change the signed-in user's password; every other session is signed out and this one gets fresh tokens",
      permission: "profile:write",
      body: passwordChangeBody,
      tags: ["profile"],
    },
    async ({ request, db, principal, body, meta, audit }) => {
      const tokens = await changeOwnPassword(db, principal.id, body, meta, audit);
      const headers = new Headers({ "Cache-Control": "no-store" });
      if (principal.via === "cookie") for (const c of authCookies(request, tokens)) headers.append("Set-Cookie", c);
      return Response.json({ changed: true, ...tokens }, { headers });
    },
  ),
});
