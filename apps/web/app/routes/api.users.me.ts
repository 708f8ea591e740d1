import { apiRoute, methods } from "../http/api-route.server.ts";
import { profileBody } from "../schemas/users.ts";
import { updateProfile } from "../services/users/commands.server.ts";
import { getUser } from "../services/users/queries.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/users/me", summary: "The signed-in user's profile", permission: "profile:read", tags: ["profile"] },
  ({ db, principal }) => getUser(db, principal.id),
);

export const action = methods({
  PATCH: apiRoute(
    { method: "PATCH", path: "/api/users/me", summary: "Change the signed-in user's display name or email", permission: "profile:write", body: profileBody, tags: ["profile"] },
    ({ db, principal, body, audit }) => updateProfile(db, principal.id, body, audit),
  ),
});
