import { apiRoute, methods } from "../http/api-route.server.ts";
import { createServiceAccountBody, serviceAccountListQuery } from "../schemas/tokens.ts";
import { createServiceAccount, listServiceAccounts } from "../services/tokens/service-accounts.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/service-accounts", summary: "List service accounts, newest first, with their active token counts", permission: "tokens:admin", query: serviceAccountListQuery, tags: ["tokens"] },
  ({ db, query }) => listServiceAccounts(db, query),
);

export const action = methods({
  POST: apiRoute(
    { method: "POST", path: "/api/service-accounts", summary: "Create a service account with a role (it cannot sign in; create tokens for it with POST /api/tokens and its userId)", permission: "tokens:admin", body: createServiceAccountBody, sessionOnly: true, status: 201, tags: ["tokens"] },
    ({ db, body, audit }) => createServiceAccount(db, body, audit),
  ),
});
