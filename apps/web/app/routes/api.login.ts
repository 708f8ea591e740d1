import { z } from "zod";
import { apiRoute, methods } from "../server/api.server.ts";
import { authCookies } from "../server/auth.server.ts";
import { signedInResponse, signInWithPassword } from "../server/session.server.ts";

export const loginBody = z.object({
  username: z.string().min(1).max(200),
  password: z.string().min(1).max(1024),
});

export const action = methods({
  POST: apiRoute(
    { method: "POST", path: "/api/login", summary: "Sign in with a username and password", permission: "public", body: loginBody, tags: ["auth"] },
    async ({ request, body, db, meta }) => {
      const signedIn = await signInWithPassword(db, body.username, body.password, meta);
      return signedInResponse(request, signedIn, authCookies(request, signedIn.tokens));
    },
  ),
});
