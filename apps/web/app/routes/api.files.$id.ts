import { apiRoute, idParams, methods } from "../server/api.server.ts";
import { deleteFile, getFile } from "../server/files.server.ts";

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
