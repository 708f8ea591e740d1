// `pnpm db:migrate` applies pending migrations to DATABASE_URL (or the embedded server under .data/);
// `pnpm --filter @opsconductor/db migration:create <name>` writes a migration for schema.prisma changes.
import { join } from "node:path";
import { applyMigrations, createMigration } from "./migrate.ts";
import { startEmbeddedPostgres } from "./embedded.ts";

const [command, name] = process.argv.slice(2);
let url = process.env.DATABASE_URL;
let stop = async () => {};
if (!url) {
  const pg = await startEmbeddedPostgres({ dataDir: join(import.meta.dirname, "..", "..", ".data", "postgres"), database: "opsconductor" });
  url = pg.url;
  stop = pg.stop;
}
try {
  if (command === "migrate") {
    const applied = await applyMigrations(url);
    console.log(applied.length ? `applied: ${applied.join(", ")}` : "database is up to date");
  } else if (command === "create-migration" && name) {
    const dir = await createMigration(url, name);
    console.log(dir ? `wrote ${dir}/migration.sql — review it, then run pnpm db:migrate` : "schema.prisma and the migrations agree; nothing to write");
  } else {
    console.error("usage: cli.ts migrate | create-migration <name>");
    process.exitCode = 2;
  }
} finally {
  await stop();
}
