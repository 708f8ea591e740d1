import { apiRoute, methods } from "../http/api-route.server.ts";
import { registerBody } from "../schemas/users.ts";
import { registerUser } from "../services/users/commands.server.ts";

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
