// The web server as users run it, over a real socket: /health tells a load balancer the truth.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { freePort } from "@opsconductor/db/embedded";
import { createTestDatabase } from "@opsconductor/db/testing";
import { afterAll, expect, test } from "vitest";

const WEB_DIR = join(import.meta.dirname, "..");
const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(stops.map((stop) => stop()));
});

async function startWeb(databaseUrl: string): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--conditions=@opsconductor/source", "server.ts", "--dev"], {
    cwd: WEB_DIR,
    env: { ...process.env, DATABASE_URL: databaseUrl, OPSCONDUCTOR_MASTER_KEY: randomBytes(32).toString("base64"), PORT: String(port), HOST: "127.0.0.1", NODE_ENV: "development" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((done) => child.on("exit", () => done()));
  stops.push(async () => {
    child.kill("SIGTERM");
    await exited;
  });
  const deadline = Date.now() + 60_000;
  while (!output.includes("listening on")) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`web server did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return `http://127.0.0.1:${port}`;
}

test("GET /health answers 200 when the database is reachable", async () => {
  const { url } = await createTestDatabase();
  const base = await startWeb(url);
  const res = await fetch(`${base}/health`);
  expect(res.status).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(await res.json()).toEqual({ status: "ok", db: "ok" });
});

test("GET /health answers 503 naming the failure, without the connection string, when the database is down", async () => {
  const closedPort = await freePort();
  const base = await startWeb(`postgresql://opsconductor:hunter2-secret@127.0.0.1:${closedPort}/opsconductor`);
  const res = await fetch(`${base}/health`);
  expect(res.status).toBe(503);
  const body = (await res.json()) as { status: string; db: string };
  expect(body.status).toBe("error");
  expect(body.db).toBe(`cannot reach the database server at 127.0.0.1:${closedPort}`);
  expect(JSON.stringify(body)).not.toContain("hunter2-secret");
});
