import { apiRoute, methods } from "../http/api-route.server.ts";
import { idParams } from "../schemas/common.ts";
import { getToken, revokeToken } from "../services/tokens/tokens.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/tokens/{id}", summary: "One API token (never its value): the caller's own, or any with tokens:admin", permission: "authenticated", params: idParams, tags: ["tokens"] },
  ({ db, params, principal }) => getToken(db, params.id, principal),
);

export const action = methods({
  DELETE: apiRoute(
    { method: "DELETE", path: "/api/tokens/{id}", summary: "Revoke an API token: the caller's own, or any with tokens:admin. Needs a signed-in session, not an API token", permission: "authenticated", params: idParams, sessionOnly: true, tags: ["tokens"] },
    ({ db, params, principal, audit }) => revokeToken(db, params.id, principal, audit),
  ),
});
