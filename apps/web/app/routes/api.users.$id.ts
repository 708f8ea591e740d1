import { apiRoute, methods } from "../http/api-route.server.ts";
import { idParams } from "../schemas/common.ts";
import { updateUserBody } from "../schemas/users.ts";
import { deleteUser, updateUser } from "../services/users/commands.server.ts";
import { getUser } from "../services/users/queries.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/users/{id}", summary: "Get a user", permission: "users:read", params: idParams, tags: ["users"] },
  ({ db, params }) => getUser(db, params.id),
);

const update = (method: "PUT" | "PATCH") =>
  apiRoute(
    {
      method,
      path: "/api/users/{id}",
      summary: "Update a user; fields left out keep their value. Disabling or a role change signs the user out everywhere",
      permission: "users:write",
      params: idParams,
      body: updateUserBody,
      sessionOnly: (body) => (body as { password?: string }).password !== undefined,
      tags: ["users"],
    },
    ({ db, params, body, audit }) => updateUser(db, params.id, body, audit),
  );

export const action = methods({
  PUT: update("PUT"),
  PATCH: update("PATCH"),
  DELETE: apiRoute(
    { method: "DELETE", path: "/api/users/{id}", summary: "Delete a user", permission: "users:write", params: idParams, status: 204, tags: ["users"] },
    ({ db, params, audit }) => deleteUser(db, params.id, audit),
  ),
});
