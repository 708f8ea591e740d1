import { apiRoute, methods } from "../server/api.server.ts";
import { createUser, createUserBody, listUsers, userListQuery } from "../server/users.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/users", summary: "List users, newest first", permission: "users:read", query: userListQuery, tags: ["users"] },
  ({ db, query }) => listUsers(db, query),
);

export const action = methods({
  POST: apiRoute(
    { method: "POST", path: "/api/users", summary: "Create a user", permission: "users:write", body: createUserBody, status: 201, tags: ["users"] },
    ({ db, body, audit }) => createUser(db, body, audit),
  ),
});
