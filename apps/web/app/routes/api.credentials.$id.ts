import { apiRoute, methods } from "../http/api-route.server.ts";
import { idParams } from "../schemas/common.ts";
import { updateCredentialBody } from "../schemas/credentials.ts";
import { deleteCredential, updateCredential } from "../services/credentials/commands.server.ts";
import { getCredential } from "../services/credentials/queries.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/credentials/{id}", summary: "Get a credential's metadata (never its secret)", permission: "credentials:read", params: idParams, tags: ["credentials"] },
  ({ db, params }) => getCredential(db, params.id),
);

export const action = methods({
  PUT: apiRoute(
    {
      method: "PUT",
      path: "/api/credentials/{id}",
      summary: "Update a credential's metadata; with `secret`, rotate the secret",
      permission: "credentials:write",
      params: idParams,
      body: updateCredentialBody,
      tags: ["credentials"],
    },
    ({ db, params, body, audit }) => updateCredential(db, params.id, body, audit),
  ),
  DELETE: apiRoute(
    { method: "DELETE", path: "/api/credentials/{id}", summary: "Delete a credential that no target uses", permission: "credentials:write", params: idParams, status: 204, tags: ["credentials"] },
    ({ db, params, audit }) => deleteCredential(db, params.id, audit),
  ),
});
