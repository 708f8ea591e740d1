import { apiRoute, methods } from "../http/api-route.server.ts";
import { idParams } from "../schemas/common.ts";
import { deleteServiceAccount, getServiceAccount } from "../services/tokens/service-accounts.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/service-accounts/{id}", summary: "One service account", permission: "tokens:admin", params: idParams, tags: ["tokens"] },
  ({ db, params }) => getServiceAccount(db, params.id),
);

export const action = methods({
  DELETE: apiRoute(
    { method: "DELETE", path: "/api/service-accounts/{id}", summary: "Delete a service account with every token it holds", permission: "tokens:admin", params: idParams, sessionOnly: true, status: 204, tags: ["tokens"] },
    ({ db, params, audit }) => deleteServiceAccount(db, params.id, audit),
  ),
});
