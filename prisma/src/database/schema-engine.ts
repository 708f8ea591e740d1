// Prisma's schema engine compiled to WebAssembly (@prisma/schema-engine-wasm), driven through the pg
// driver adapter. The Prisma CLI would download a native schema-engine binary from outside the npm
// registry; this gives the same migrations without it (see docs/decisions/001-prisma-without-binaries.md).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import type { SchemaEngine } from "@prisma/schema-engine-wasm";
import type * as SchemaEngineGlue from "@prisma/schema-engine-wasm/schema_engine_bg";

const require = createRequire(import.meta.url);
let wasmReady: Promise<typeof SchemaEngineGlue> | undefined;

// The package's entry imports the .wasm file as an ES module, which Node only allows behind a flag;
// instantiate it by hand with the same glue module instead.
function loadWasm() {
  wasmReady ??= (async () => {
    const pkgDir = dirname(require.resolve("@prisma/schema-engine-wasm"));
    const glue = await import("@prisma/schema-engine-wasm/schema_engine_bg");
    const bytes = await readFile(join(pkgDir, "schema_engine_bg.wasm"));
    const { instance } = await Wasm.instantiate(bytes, { "./schema_engine_bg.js": glue as unknown as Record<string, unknown> });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start?: () => void }).__wbindgen_start?.();
    return glue;
  })();
  return wasmReady;
}

// Node's WebAssembly global, typed just as far as this file uses it (the ES2023 lib has no types for it).
interface WasmApi {
  instantiate(bytes: Uint8Array, imports: Record<string, Record<string, unknown>>): Promise<{ instance: { exports: Record<string, unknown> } }>;
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type PgAdapter = Awaited<ReturnType<PrismaPg["connect"]>>;

// PrismaPg's executeScript splits a script on every ";", which breaks dollar-quoted function bodies
// (our immutability trigger). Send the script whole instead: PostgreSQL's simple query protocol runs
// all its statements, as one implicit transaction, so a migration applies completely or not at all.
function sendScriptsWhole(adapter: PgAdapter): PgAdapter {
  adapter.executeScript = async (script: string) => {
    try {
      await adapter.underlyingDriver().query(script);
    } catch (error) {
      (adapter as unknown as { onError(e: unknown): never }).onError(error);
    }
  };
  return adapter;
}

class WholeScriptPrismaPg extends PrismaPg {
  readonly opened: PgAdapter[] = [];
  override async connect() {
    return this.track(await super.connect());
  }
  override async connectToShadowDb() {
    return this.track(await super.connectToShadowDb());
  }
  private track(adapter: PgAdapter) {
    this.opened.push(adapter);
    return sendScriptsWhole(adapter);
  }
}

export interface OpenSchemaEngine {
  engine: SchemaEngine;
  /** Frees the engine and closes every connection it opened (a template database must have none). */
  close(): Promise<void>;
}

/** Opens a schema engine connected to `connectionString`; call `close()` when done. */
export async function openSchemaEngine(connectionString: string, datamodel: { path: string; content: string }): Promise<OpenSchemaEngine> {
  const glue = await loadWasm();
  const factory = new WholeScriptPrismaPg({ connectionString });
  const engine = await glue.SchemaEngine.new({ datamodels: [[datamodel.path, datamodel.content]] }, () => {}, bindMigrationAwareSqlAdapterFactory(factory));
  return {
    engine,
    async close() {
      engine.free();
      await Promise.all(factory.opened.map((adapter) => adapter.dispose().catch(() => {})));
    },
  };
}
