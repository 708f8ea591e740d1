// The main entry must run outside Node (browsers, Deno, Bun): no module of the published source may
// import a Node built-in or use Node-only globals, and the package has no runtime dependencies.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";

const SRC = new URL("../src/", import.meta.url).pathname;
const sources = readdirSync(SRC, { recursive: true, encoding: "utf8" })
  .filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"))
  .map((name) => ({ name, text: readFileSync(join(SRC, name), "utf8") }));

test("no published module imports a Node built-in or a package, or uses Node-only globals", () => {
  expect(sources.map((s) => s.name)).toContain("index.ts");
  for (const { name, text } of sources) {
    const specifiers = [...text.matchAll(/\bfrom\s+"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1] ?? m[2]!);
    expect(specifiers.filter((s) => !s.startsWith("./") && !s.startsWith("../")), name).toEqual([]);
    expect(text, name).not.toMatch(/\b(process|Buffer|require|__dirname|setImmediate)\b[.(]/);
  }
});

test("the package has no runtime dependencies", () => {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as Record<string, unknown>;
  expect(manifest.dependencies ?? {}).toEqual({});
  expect(manifest.peerDependencies ?? {}).toEqual({});
});
