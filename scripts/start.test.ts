// `pnpm start` end to end: real embedded PostgreSQL, real web and worker processes, a real Ctrl-C.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createPrismaClient } from "@opsconductor/db";
import { verifyPassword } from "../apps/web/app/services/auth/passwords.server.ts";
import { freePort } from "@opsconductor/db/embedded";
import { createTestDatabase } from "@opsconductor/db/testing";
import { afterAll, describe, expect, test } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const dirs: string[] = [];

async function dataDir() {
  const dir = await mkdtemp(join(tmpdir(), "opsconductor-start-"));
  await chmod(dir, 0o755);
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  // A failed test may have left its product running: stop it as Ctrl-C would, then make sure.
  for (const started of running) if (started.child.exitCode === null) process.kill(-started.child.pid!, "SIGINT");
  await Promise.race([Promise.all(running.map((s) => s.exited)), new Promise((r) => setTimeout(r, 20_000))]);
  for (const dir of dirs) {
    for (const pid of processesUsing(dir)) process.kill(pid, "SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});
const running: Started[] = [];

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(env: Record<string, string>): Started {
  const base = { ...process.env };
  for (const name of ["DATABASE_URL", "NODE_ENV", "OPSCONDUCTOR_MASTER_KEY", "OPSCONDUCTOR_ADMIN_PASSWORD", "VITEST", "VITEST_POOL_ID", "VITEST_WORKER_ID"]) delete base[name];
  // Its own process group, like a terminal's foreground job, so a group-wide SIGINT is a real Ctrl-C.
  const child = spawn(process.execPath, ["--conditions=@opsconductor/source", "scripts/start.ts"], { cwd: ROOT, env: { ...base, ...env }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  child.stdout!.on("data", (d: Buffer) => (text += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  const started = { child, output: () => text, exited };
  running.push(started);
  return started;
}

async function waitFor(started: Started, pattern: RegExp, timeoutMs = 150_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(started.output());
    if (match) return match;
    if (started.child.exitCode !== null || Date.now() > deadline) throw new Error(`never saw ${pattern}; output:\n${started.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// Every process started for this data folder carries it in its environment (postgres on its command line).
function processesUsing(dir: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    if (Number(pid) === process.pid) continue;
    try {
      const text = readFileSync(`/proc/${pid}/environ`, "utf8") + readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (text.includes(dir)) found.push(Number(pid));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

async function ctrlC(started: Started, dir: string) {
  process.kill(-started.child.pid!, "SIGINT");
  expect(await started.exited).toBe(0);
  const deadline = Date.now() + 10_000;
  while (processesUsing(dir).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  expect(processesUsing(dir)).toEqual([]);
}

async function adminHash(url: string): Promise<string[]> {
  const prisma = createPrismaClient(url, { maxConnections: 1 });
  try {
    const admins = await prisma.user.findMany({ where: { role: "admin" } });
    return admins.map((a) => a.passwordHash ?? "");
  } finally {
    await prisma.$disconnect();
  }
}

describe("pnpm start without DATABASE_URL", () => {
  test("serves /health on embedded PostgreSQL, keeps data across restarts, and Ctrl-C leaves nothing behind", { timeout: 400_000 }, async () => {
    const dir = await dataDir();
    const [port, pgPort] = [await freePort(), await freePort()];
    const env = { OPSCONDUCTOR_DATA_DIR: dir, PORT: String(port), OPSCONDUCTOR_EMBEDDED_PG_PORT: String(pgPort) };
    const first = start(env);
    const [, password] = await waitFor(first, /Password: (\S+)/);
    await waitFor(first, /OpsConductor is ready at http:\/\/localhost:\d+/);
    // The database's superuser password was generated for this folder, is readable by its owner
    // only and never printed.
    const pgPasswordFile = join(dir, "postgres.password");
    expect(statSync(pgPasswordFile).mode & 0o777).toBe(0o600);
    const pgPassword = readFileSync(pgPasswordFile, "utf8").trim();
    expect(pgPassword).not.toBe("opsconductor");
    expect(first.output()).not.toContain(pgPassword);
    const dbUrl = `postgresql://postgres:${encodeURIComponent(pgPassword)}@127.0.0.1:${pgPort}/opsconductor`;
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok", db: "ok" });
    const [hash] = await adminHash(dbUrl);
    expect(await verifyPassword(password!, hash!)).toBe(true);
    expect(readFileSync(join(dir, "master.key"), "utf8")).toMatch(/^[\w.-]+:[A-Za-z0-9+/]{43}=\n$/);
    // The admin signs in with the printed password; the dashboard shows the worker `pnpm start` runs.
    await waitFor(first, /\[worker\] INFO worker ready workerId=\S+ concurrency=4/);
    const login = await fetch(`http://127.0.0.1:${port}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password }) });
    expect(login.status).toBe(200);
    const cookie = login.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const page = await (await fetch(`http://127.0.0.1:${port}/`, { headers: { cookie } })).text();
    expect(page).toContain("admin");
    expect(page).toMatch(/Workers online.*?>1</s);
    await ctrlC(first, dir);

    const second = start(env);
    await waitFor(second, /OpsConductor is ready/, 60_000);
    expect(second.output()).not.toMatch(/Password:/);
    expect(second.output()).toMatch(/migrations: database is up to date/);
    const hashes = await adminHash(dbUrl);
    expect(hashes).toHaveLength(1);
    expect(await verifyPassword(password!, hashes[0]!)).toBe(true);
    await ctrlC(second, dir);
  });
});

describe("pnpm start with DATABASE_URL", () => {
  test("uses that server and starts no embedded PostgreSQL", { timeout: 200_000 }, async () => {
    const { url } = await createTestDatabase();
    const dir = await dataDir();
    const port = await freePort();
    const started = start({ DATABASE_URL: url, OPSCONDUCTOR_DATA_DIR: dir, PORT: String(port), OPSCONDUCTOR_ADMIN_PASSWORD: "configured-admin-pw" });
    await waitFor(started, /OpsConductor is ready/);
    expect(started.output()).toContain("(DATABASE_URL)");
    expect(started.output()).not.toContain(url); // printed with its password masked
    expect(started.output()).toContain("postgres:***@127.0.0.1");
    expect(existsSync(join(dir, "postgres"))).toBe(false);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    const [hash] = await adminHash(url);
    expect(await verifyPassword("configured-admin-pw", hash!)).toBe(true);
    await ctrlC(started, dir);
  });
});

test("NODE_ENV=production refuses to invent a master key", async () => {
  const dir = await dataDir();
  const started = start({ NODE_ENV: "production", OPSCONDUCTOR_DATA_DIR: dir });
  expect(await started.exited).toBe(1);
  expect(started.output()).toMatch(/OPSCONDUCTOR_MASTER_KEY is required when NODE_ENV=production/);
  expect(existsSync(join(dir, "master.key"))).toBe(false);
});
