import * as nodeCrypto from "node:crypto";
import { readFileSync } from "node:fs";
import ts from "typescript";
import { expect, test } from "vitest";
import * as core from "./index.ts";

// The README's first ```ts block is the embedding example; it runs here against the source, with
// its imports bound to the modules below and its console captured.
const modules: Record<string, unknown> = { "@opsconductor/core": core, "node:crypto": nodeCrypto };

function readmeExample(): string {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const block = /```ts\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error("README.md has no ```ts code block");
  return block[1]!;
}

function bindImports(js: string): string {
  return js.replace(/^import\s*\{([^}]*)\}\s*from\s*"([^"]+)";$/gm, (_, names: string, specifier: string) => {
    if (!(specifier in modules)) throw new Error(`The README example imports ${specifier}, which this test does not provide.`);
    const bindings = names.split(",").map((name) => name.trim().replace(/\s+as\s+/, ": ")).filter(Boolean);
    return `const { ${bindings.join(", ")} } = __modules[${JSON.stringify(specifier)}];`;
  });
}

test("the README's embedding example runs and prints what its comments say", async () => {
  const source = readmeExample();
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023, verbatimModuleSyntax: false } });
  const body = bindImports(outputText);
  expect(body).not.toMatch(/^\s*import\s/m);

  const logs: string[] = [];
  const console = { log: (...args: unknown[]) => logs.push(args.map(String).join(" ")) };
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<void>;
  await new AsyncFunction("__modules", "console", body)(modules, console);

  // The example documents its output in trailing comments; the run must match them.
  const documented = source
    .trimEnd()
    .split("\n")
    .reverse()
    .filter((_, index, lines) => lines.slice(0, index + 1).every((line) => line.startsWith("// ")))
    .reverse()
    .map((line) => line.slice(3));
  expect(documented).toEqual(["ops would run: Restart-Service 'Spooler'; (Get-Service 'Spooler').Status", "with password ***", "succeeded"]);
  expect(logs).toEqual(documented);
});
