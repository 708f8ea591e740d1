import { apiRoute, methods } from "../http/api-route.server.ts";
import { idParams } from "../schemas/common.ts";
import { deleteFile } from "../services/files/commands.server.ts";
import { getFile } from "../services/files/queries.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/files/{id}", summary: "A file's metadata: name, size, SHA-256, uploader", permission: "files:read", params: idParams, tags: ["files"] },
  ({ db, params }) => getFile(db, params.id),
);

export const action = methods({
  DELETE: apiRoute(
    { method: "DELETE", path: "/api/files/{id}", summary: "Delete a file; refused (409) while a job version copies it", permission: "files:write", params: idParams, status: 204, tags: ["files"] },
    ({ db, params, principal, audit }) => deleteFile(db, params.id, principal, audit),
  ),
});
