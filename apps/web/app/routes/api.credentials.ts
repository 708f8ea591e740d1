import { can } from "../lib/permissions.ts";
import { apiRoute, methods } from "../http/api-route.server.ts";
import { createCredentialBody, credentialListQuery } from "../schemas/credentials.ts";
import { createCredential } from "../services/credentials/commands.server.ts";
import { listCredentials } from "../services/credentials/queries.server.ts";

export const loader = apiRoute(
  {
    method: "GET",
    path: "/api/credentials",
    summary: "List credentials, newest first: metadata for admins, only id, name and type for operators",
    permission: "credentials:reference",
    query: credentialListQuery,
    tags: ["credentials"],
  },
  ({ db, query, principal }) => listCredentials(db, query, can(principal.role, "credentials:read")),
);

export const action = methods({
  POST: apiRoute(
    {
      method: "POST",
      path: "/api/credentials",
      summary: "Store a credential; its secret is encrypted and can never be read back",
      permission: "credentials:write",
      body: createCredentialBody,
      status: 201,
      tags: ["credentials"],
    },
    ({ db, body, principal, audit }) => createCredential(db, body, principal.id, audit),
  ),
});
