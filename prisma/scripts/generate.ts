// Generates the Prisma client into src/generated. Runs on `pnpm install` (postinstall).
// The CLI insists on locating a native schema-engine binary before generating, which it would
// download from outside the npm registry; generation itself runs on WebAssembly and never executes
// it, so any existing file satisfies the check (docs/decisions/001-prisma-without-binaries.md).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const cli = require.resolve("prisma/build/index.js");
const result = spawnSync(process.execPath, [cli, "generate", "--schema", join(import.meta.dirname, "..", "schema.prisma")], {
  stdio: "inherit",
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
    CHECKPOINT_DISABLE: "1",
  },
});
process.exit(result.status ?? 1);
