// The web server as users run it, over a real socket: /health tells a load balancer the truth.
import { freePort } from "@opsconductor/db/embedded";
import { startApp } from "@opsconductor/testing/web";
import { expect, test } from "vitest";

test("GET /health answers 200 when the database is reachable", async () => {
  const app = await startApp();
  const res = await app.request("GET", "/health");
  expect(res.status).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.body).toEqual({ status: "ok", db: "ok" });
});

test("GET /health answers 503 naming the failure, without the connection string, when the database is down", async () => {
  const closedPort = await freePort();
  const app = await startApp({ DATABASE_URL: `postgresql://opsconductor:hunter2-secret@127.0.0.1:${closedPort}/opsconductor` });
  const res = await app.request("GET", "/health");
  expect(res.status).toBe(503);
  expect(res.body).toEqual({ status: "error", db: `cannot reach the database server at 127.0.0.1:${closedPort}` });
  expect(res.text).not.toContain("hunter2-secret");
});
