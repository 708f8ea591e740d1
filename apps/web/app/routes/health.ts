import { checkDatabase } from "@opsconductor/db";
import { db } from "../db.server.ts";

// Liveness and readiness in one: load balancers and `pnpm start`'s users poll this.
export async function loader() {
  const database = await checkDatabase(db());
  const headers = { "Cache-Control": "no-store" };
  if (database.ok) return Response.json({ status: "ok", db: "ok" }, { headers });
  return Response.json({ status: "error", db: database.reason }, { status: 503, headers });
}
