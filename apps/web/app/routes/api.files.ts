import { z } from "zod";
import { apiRoute, methods, pageQuery } from "../server/api.server.ts";
import { FILE_NAME_HEADER, listFiles, uploadFile, uploadName } from "../server/files.server.ts";

const listQuery = pageQuery.extend({ q: z.string().trim().min(1).max(200).optional().meta({ description: "Only files whose name contains this (any case)" }) });
// Validated by uploadName, which also accepts the header instead.
const uploadQuery = z.object({ name: z.string().max(1000).optional().meta({ description: `The file's name (1-255 characters), unless sent in the ${FILE_NAME_HEADER} header` }) });

export const loader = apiRoute(
  { method: "GET", path: "/api/files", summary: "List the file library, newest first", permission: "files:read", query: listQuery, tags: ["files"] },
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
    ({ db, request, query, principal, audit }) => uploadFile(db, request, uploadName(request, query.name), principal, audit),
  ),
});
