import { apiRoute, methods } from "../server/api.server.ts";
import { registerBody, registerUser } from "../server/users.server.ts";

export const action = methods({
  POST: apiRoute(
    {
      method: "POST",
      path: "/api/register",
      summary: "Create a viewer account for yourself (only when OPSCONDUCTOR_SELF_REGISTRATION is on)",
      permission: "public",
      body: registerBody,
      status: 201,
      tags: ["auth"],
    },
    ({ db, body, audit }) => registerUser(db, body, audit),
  ),
});
