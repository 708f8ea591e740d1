import { apiRoute } from "../http/api-route.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/verify", summary: "The signed-in principal", permission: "authenticated", tags: ["auth"] },
  async ({ principal }) => ({ user: { id: principal.id, username: principal.username, role: principal.role } }),
);
