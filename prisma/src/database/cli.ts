// `pnpm db:migrate` applies pending migrations to DATABASE_URL (or the embedded server under .data/);
// `pnpm db:rewrap-secrets` moves every stored credential secret to the primary master key;
// `pnpm --filter @opsconductor/db migration:create <name>` writes a migration for schema.prisma changes.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createKeyring } from "@opsconductor/core";
import { createPrismaClient } from "./client.ts";
import { parseMasterKeys } from "./config.ts";
import { rewrapCredentialSecrets } from "../data/credentials.ts";
import { startEmbeddedPostgres } from "./embedded.ts";
import { applyMigrations, createMigration } from "./migrate.ts";

const [command, name] = process.argv.slice(2);
const dataDir = process.env.OPSCONDUCTOR_DATA_DIR ?? join(import.meta.dirname, "..", "..", "..", ".data");
let url = process.env.DATABASE_URL;
let stop = async () => {};
if (!url && command !== undefined) {
  const pg = await startEmbeddedPostgres({ dataDir: join(dataDir, "postgres"), database: "opsconductor" });
  url = pg.url;
  stop = pg.stop;
}
try {
  if (command === "migrate") {
    const applied = await applyMigrations(url!);
    console.log(applied.length ? `applied: ${applied.join(", ")}` : "database is up to date");
  } else if (command === "create-migration" && name) {
    const dir = await createMigration(url!, name);
    console.log(dir ? `wrote ${dir}/migration.sql — review it, then run pnpm db:migrate` : "schema.prisma and the migrations agree; nothing to write");
  } else if (command === "rewrap-secrets") {
    // The same key list the web app and workers use; `pnpm start`'s development key otherwise.
    const devKey = join(dataDir, "master.key");
    const value = process.env.OPSCONDUCTOR_MASTER_KEY ?? (existsSync(devKey) ? readFileSync(devKey, "utf8").trim() : undefined);
    if (!value) throw new Error("set OPSCONDUCTOR_MASTER_KEY to the new key list (new primary key first, old keys after)");
    const keys = parseMasterKeys(value);
    const prisma = createPrismaClient(url!, { maxConnections: 2 });
    try {
      const result = await rewrapCredentialSecrets(prisma, createKeyring(keys));
      console.log(`re-wrapped ${result.rewrapped} credential secret(s) under key ${keys.primary}; ${result.alreadyCurrent} already used it`);
    } finally {
      await prisma.$disconnect();
    }
  } else {
    console.error("usage: cli.ts migrate | rewrap-secrets | create-migration <name>");
    process.exitCode = 2;
  }
} catch (error) {
  console.error(`error: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await stop();
}
