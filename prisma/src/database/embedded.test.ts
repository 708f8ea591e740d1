// The embedded PostgreSQL of `pnpm start`: a generated superuser password kept beside the data
// folder for its owner only, never the public fixed one older versions used.
import { existsSync, statSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, expect, test } from "vitest";
import { passwordFileFor, startEmbeddedPostgres, type RunningPostgres } from "./embedded.ts";

const root = await mkdtemp(join(tmpdir(), "opsconductor-embedded-"));
await chmod(root, 0o755);
const dataDir = join(root, "postgres");
let server: RunningPostgres | undefined;
afterAll(async () => {
  await server?.stop();
  await rm(root, { recursive: true, force: true });
});

async function canConnect(password: string, port: number): Promise<boolean> {
  const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", password, database: "postgres" });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch (error) {
    expect((error as { code?: string }).code).toBe("28P01"); // invalid_password, not a connection problem
    return false;
  }
}

test("the superuser password is generated on first start, kept with mode 0600, and the old fixed one is refused", { timeout: 120_000 }, async () => {
  server = await startEmbeddedPostgres({ dataDir, database: "opsconductor" });
  const file = passwordFileFor(dataDir);
  expect(existsSync(file)).toBe(true);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const password = (await readFile(file, "utf8")).trim();
  expect(password.length).toBeGreaterThanOrEqual(24);
  expect(server.url).toContain(encodeURIComponent(password));
  expect(await canConnect(password, server.port)).toBe(true);
  expect(await canConnect("opsconductor", server.port)).toBe(false);

  // The next start reads the same password.
  await server.stop();
  server = await startEmbeddedPostgres({ dataDir, database: "opsconductor" });
  expect(await canConnect(password, server.port)).toBe(true);
});

test("a data folder made with the old fixed password gets a generated one on its next start", { timeout: 120_000 }, async () => {
  // What an older version left behind: the public password, and no password file.
  const admin = new pg.Client({ connectionString: server!.url });
  await admin.connect();
  await admin.query("ALTER USER postgres PASSWORD 'opsconductor'");
  await admin.end();
  await server!.stop();
  await rm(passwordFileFor(dataDir));

  server = await startEmbeddedPostgres({ dataDir, database: "opsconductor" });
  const password = (await readFile(passwordFileFor(dataDir), "utf8")).trim();
  expect(password).not.toBe("opsconductor");
  expect(statSync(passwordFileFor(dataDir)).mode & 0o777).toBe(0o600);
  expect(await canConnect("opsconductor", server.port)).toBe(false);
  expect(await canConnect(password, server.port)).toBe(true);
});
