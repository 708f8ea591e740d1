import { apiRoute, methods } from "../http/api-route.server.ts";
import { idParams } from "../schemas/common.ts";
import { testTargetConnection } from "../services/targets/connection-test.server.ts";

export const action = methods({
  POST: apiRoute(
    {
      method: "POST",
      path: "/api/targets/{id}/test-winrm",
      summary: "Connect to the target with its credential (Identify, then `hostname`); answers ok: false with a hint when it fails",
      permission: "targets:test",
      params: idParams,
      tags: ["targets"],
    },
    ({ db, params, audit }) => testTargetConnection(db, params.id, audit),
  ),
});
