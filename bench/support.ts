// What the scale benches (pipeline, scheduler, million-runs, fan-out) share: PostgreSQL, the web app's
// production build and server, a signed-in API client, percentiles, the machine's description and
// the replacement of one marked section of docs/performance.md.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { applyMigrations, createPrismaClient } from "@opsconductor/db";
import { freePort, startEmbeddedPostgres } from "@opsconductor/db/embedded";
import { buildProduction } from "../apps/web/production-build.ts";
import { createLocalUser } from "../apps/web/app/services/auth/local-users.server.ts";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const PASSWORD = "bench-password-1";
export const log = (message: string) => process.stderr.write(`bench: ${new Date().toISOString().slice(11, 19)} ${message}\n`);

/** Ends the process when the bench overruns its deadline. */
export function watchdog(deadlineMs: number) {
  setTimeout(() => {
    console.error(`bench: still running after ${deadlineMs} ms; giving up`);
    process.exit(2);
  }, deadlineMs).unref();
}

/** The q-quantile (0..1) of the values, nearest rank. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
export const median = (values: number[]) => quantile(values, 0.5);
/** A figure in ms with sensible precision. */
export const f = (n: number) => (Number.isNaN(n) ? "–" : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const loads = () => loadavg().map((l) => l.toFixed(2)).join(" / ");

/** The machine as the tables describe it, including the load average now (1 / 5 / 15 min). */
export function machine(command: string): string {
  const now = new Date().toISOString().slice(0, 16).replace("T", " ");
  return `Measured ${now} UTC with \`${command}\` on ${cpus()[0]?.model.trim()}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, PostgreSQL (embedded) on the same machine; load average at the start ${startLoad}, at the end ${loads()} (the machine is shared; a load above the core count means other work competed for the CPU).`;
}
const startLoad = loads();

/** Replaces the block between `<!-- name:start -->` and `<!-- name:end -->` of docs/performance.md (appended when missing) with --write-docs. */
export async function writeSection(name: string, table: string) {
  console.log(table);
  if (!process.argv.includes("--write-docs")) return;
  const docs = join(root, "docs/performance.md");
  const text = await readFile(docs, "utf8");
  const [open, close] = [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`];
  const block = `${open}\n${table}\n${close}`;
  const at = text.indexOf(open);
  const end = text.indexOf(close);
  const next = at >= 0 && end > at ? text.slice(0, at) + block + text.slice(end + close.length) : `${text.trimEnd()}\n\n${block}\n`;
  await writeFile(docs, next);
  log(`docs/performance.md: section ${name} updated`);
}

export function startChild(name: string, args: string[], options: { cwd: string; env: Record<string, string>; ready: RegExp; onLine?: (line: string) => void }): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  return new Promise((resolve, reject) => {
    let ready = false;
    const onData = (data: Buffer) => {
      output = (output + data.toString()).slice(-100_000);
      if (!ready && options.ready.test(output)) {
        ready = true;
        resolve(child);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      if (!ready) reject(new Error(`${name} exited (code ${code}):\n${output.slice(-2000)}`));
    });
  });
}

export interface Bench {
  work: string;
  databaseUrl: string;
  masterKey: string;
  prisma: ReturnType<typeof createPrismaClient>;
  adminId: string;
  /** Starts the web server (production build) and signs in; the base URL and a fetch helper. */
  startWeb(env?: Record<string, string>): Promise<Web>;
  cleanup(): Promise<void>;
  children: ChildProcess[];
}

export interface Web {
  base: string;
  child: ChildProcess;
  token: string;
  api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
  /** GET the path, the time it took in ms (throws on a status ≥ 400). */
  time(path: string): Promise<number>;
}

/** PostgreSQL with every migration and an admin user; the web build only when startWeb is called. */
export async function setup(options: { postgresConf?: Record<string, string>; maxConnections?: number } = {}): Promise<Bench> {
  const work = await mkdtemp(join(tmpdir(), "opsconductor-scale-bench-"));
  await chmod(work, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir: join(work, "postgres"), database: "bench" });
  await applyMigrations(pg.url);
  const prisma = createPrismaClient(pg.url, { maxConnections: options.maxConnections ?? 8 });
  const admin = await createLocalUser(prisma, { username: "bench-admin", password: PASSWORD, role: "admin" });
  const masterKey = randomBytes(32).toString("base64");
  const children: ChildProcess[] = [];
  let buildDir: string | null = null;
  const bench: Bench = {
    work,
    databaseUrl: pg.url,
    masterKey,
    prisma,
    adminId: admin.id,
    children,
    async startWeb(env = {}) {
      buildDir = join(root, "apps/web/node_modules/.cache", `bench-build-${process.pid}`);
      log("building the web app");
      await buildProduction(buildDir);
      const port = await freePort();
      const child = await startChild("web server", ["--conditions=@opsconductor/source", "server.ts"], {
        cwd: join(root, "apps/web"),
        env: { DATABASE_URL: pg.url, OPSCONDUCTOR_MASTER_KEY: masterKey, NODE_ENV: "production", PORT: String(port), HOST: "127.0.0.1", WEB_BUILD_DIR: buildDir, LOG_LEVEL: "warn", ...env },
        ready: /listening on/,
      });
      children.push(child);
      const base = `http://127.0.0.1:${port}`;
      const login = (await (await fetch(`${base}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "bench-admin", password: PASSWORD }) })).json()) as { accessToken: string };
      const headers = { authorization: `Bearer ${login.accessToken}`, "content-type": "application/json" };
      const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
        const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
        const parsed = (await res.json().catch(() => null)) as T;
        if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(parsed)}`);
        return parsed;
      };
      const time = async (path: string) => {
        const began = performance.now();
        const res = await fetch(`${base}${path}`, { headers, redirect: "manual" });
        await res.arrayBuffer();
        if (res.status >= 300) throw new Error(`GET ${path}: ${res.status} ${res.headers.get("location") ?? ""}`);
        const took = performance.now() - began;
        if (res.status >= 400) throw new Error(`GET ${path}: ${res.status}`);
        return took;
      };
      return { base, child, token: login.accessToken, api, time };
    },
    async cleanup() {
      for (const child of children) child.kill("SIGTERM");
      await prisma.$disconnect().catch(() => undefined);
      await pg.stop().catch(() => undefined);
      if (buildDir) await rm(buildDir, { recursive: true, force: true });
      await rm(work, { recursive: true, force: true });
    },
  };
  return bench;
}

export { freePort };
