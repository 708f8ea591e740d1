import { apiRoute, methods } from "../http/api-route.server.ts";
import { createTokenBody, tokenListQuery } from "../schemas/tokens.ts";
import { createToken, listTokens } from "../services/tokens/tokens.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/tokens", summary: "List API tokens, newest first: the caller's own, or (tokens:admin) scope=all or one userId's", permission: "authenticated", query: tokenListQuery, tags: ["tokens"] },
  ({ db, query, principal }) => listTokens(db, query, principal),
);

export const action = methods({
  POST: apiRoute(
    {
      method: "POST",
      path: "/api/tokens",
      summary: "Create an API token for the caller (or, tokens:admin, a service account); the answer carries its value this once. Needs a signed-in session, not an API token",
      permission: "authenticated",
      body: createTokenBody,
      sessionOnly: true,
      status: 201,
      tags: ["tokens"],
    },
    ({ db, body, principal, audit }) => createToken(db, body, principal, audit),
  ),
});
