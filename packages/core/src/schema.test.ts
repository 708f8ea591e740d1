import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import * as core from "./index.ts";
import * as schema from "./schema.ts";

// Every module the entry reaches through static imports, and the packages they name.
function reachable(entry: string): { files: string[]; packages: Set<string> } {
  const files: string[] = [];
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.includes(file)) return;
    files.push(file);
    for (const [, specifier] of readFileSync(file, "utf8").matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gm)) {
      if (specifier!.startsWith(".")) visit(resolve(dirname(file), specifier!));
      else packages.add(specifier!);
    }
  };
  visit(entry);
  return { files, packages };
}

test("@opsconductor/core/schema reaches no Node.js built-in, so browser bundles can import it", () => {
  const { files, packages } = reachable(fileURLToPath(new URL("./schema.ts", import.meta.url)));
  expect(files.length).toBeGreaterThan(5);
  const builtins = [...packages].filter((name) => name.startsWith("node:") || builtinModules.includes(name.split("/")[0]!));
  expect(builtins).toEqual([]);
  expect([...packages].sort()).toEqual(["cron-parser", "zod"]);
});

test("the main entry exports everything the schema entry does, and the schema entry leaves out only the Node.js parts", () => {
  for (const name of Object.keys(schema)) expect((core as Record<string, unknown>)[name]).toBe((schema as Record<string, unknown>)[name]);
  const nodeOnly = Object.keys(core).filter((name) => !(name in schema)).sort();
  expect(nodeOnly).toEqual(["KeyringError", "SecretDecryptionError", "createKeyring", "createLocalFileOpener", "createWinRMExecutors", "decryptSecret", "encryptSecret", "needsRewrap", "rewrapSecret", "runJob", "winrmConnectionOptions"]);
});
