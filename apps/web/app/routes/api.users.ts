import { apiRoute, methods } from "../http/api-route.server.ts";
import { createUserBody, userListQuery } from "../schemas/users.ts";
import { createUser } from "../services/users/commands.server.ts";
import { listUsers } from "../services/users/queries.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/users", summary: "List users, newest first", permission: "users:read", query: userListQuery, tags: ["users"] },
  ({ db, query }) => listUsers(db, query),
);

export const action = methods({
  POST: apiRoute(
    { method: "POST", path: "/api/users", summary: "Create a user", permission: "users:write", body: createUserBody, sessionOnly: (body) => (body as { password?: string }).password !== undefined, status: 201, tags: ["users"] },
    ({ db, body, audit }) => createUser(db, body, audit),
  ),
});
