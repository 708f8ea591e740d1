// Request schemas of signing in and out: the API's and the login page's. Browser-safe.
import { z } from "zod";

/** Body of POST /api/login; the login page checks its form with it too. */
export const loginBody = z.object({
  username: z.string().min(1).max(200),
  password: z.string().min(1).max(1024),
});

/** Body of POST /api/refresh: the refresh token, unless the cookie carries it. */
export const refreshBody = z.object({ refreshToken: z.string().min(1).max(200).optional() }).optional();

/** Body of POST /api/logout: the session's refresh token, unless the cookie carries it. */
export const logoutBody = z.object({ refreshToken: z.string().min(1).max(200).optional() }).optional();

/** Body of POST /api/revoke-all: another user's id (admins only), or nothing for the caller's own tokens. */
export const revokeAllBody = z.object({ userId: z.uuid({ error: "must be a user id (UUID)" }).optional() }).optional();
