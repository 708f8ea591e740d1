// GET /api/metrics: the request metrics server.ts counts, plus gauges read from this process's state.
import { dbPoolUse } from "../db.server.ts";
import { runStreams } from "../services/runs/run-streams.server.ts";
import { metricsText, registerGauge } from "./observability.server.ts";

/** The web process's metrics as a Prometheus text answer. */
export async function metricsResponse(): Promise<Response> {
  registerGauge("opsconductor_web_run_streams_open", "Live run streams (SSE) this web process serves now", () => runStreams().count());
  registerGauge("opsconductor_web_db_pool_connections", "Database connections of this web process's pool by state (idle, in_use), and requests waiting for one (waiting)", () => 0, {
    label: "state",
    read: async () => {
      const use = dbPoolUse();
      return { idle: use.idle, in_use: use.total - use.idle, waiting: use.waiting };
    },
  });
  const { text, contentType } = await metricsText();
  return new Response(text, { status: 200, headers: { "Content-Type": contentType, "Cache-Control": "no-store" } });
}
