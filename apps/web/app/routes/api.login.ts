import { apiRoute, methods } from "../http/api-route.server.ts";
import { signedInReply } from "../http/session-replies.server.ts";
import { loginBody } from "../schemas/auth.ts";
import { signInWithPassword } from "../services/auth/sign-in.server.ts";

export const action = methods({
  POST: apiRoute(
    { method: "POST", path: "/api/login", summary: "Sign in with a username and password", permission: "public", body: loginBody, tags: ["auth"] },
    async ({ request, body, db, meta }) => signedInReply(request, await signInWithPassword(db, body.username, body.password, meta)),
  ),
});
