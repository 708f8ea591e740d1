import { apiRoute, methods } from "../http/api-route.server.ts";
import { uploadBody } from "../http/body.server.ts";
import { FILE_NAME_HEADER, fileListQuery, uploadQuery } from "../schemas/files.ts";
import { uploadFile, uploadName } from "../services/files/commands.server.ts";
import { listFiles } from "../services/files/queries.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/files", summary: "List the file library, newest first", permission: "files:read", query: fileListQuery, tags: ["files"] },
  ({ db, query }) => listFiles(db, query),
);

export const action = methods({
  POST: apiRoute(
    {
      method: "POST",
      path: "/api/files",
      summary: "Upload a file to the library (the body is the file's bytes, streamed)",
      permission: "files:write",
      query: uploadQuery,
      rawBody: { contentType: "application/octet-stream", description: `The file's bytes, as they are (any media type is accepted). Name it with ?name= or the ${FILE_NAME_HEADER} header (percent-encoded UTF-8). Larger than FILE_UPLOAD_MAX_BYTES (1 GiB by default): 413.` },
      status: 201,
      tags: ["files"],
    },
    ({ db, request, query, principal, audit }) => uploadFile(db, uploadBody(request), uploadName(query.name, request.headers.get(FILE_NAME_HEADER)), principal, audit),
  ),
});
