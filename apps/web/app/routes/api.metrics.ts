import { apiRoute } from "../http/api-route.server.ts";
import { metricsResponse } from "../http/metrics.server.ts";

export const loader = apiRoute(
  { method: "GET", path: "/api/metrics", summary: "This web process's Prometheus metrics (text exposition format): requests by route pattern and status, their durations, live run streams, database pool use", permission: "metrics:read", tags: ["system"] },
  () => metricsResponse(),
);
