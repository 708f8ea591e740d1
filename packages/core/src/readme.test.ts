import * as nodeCrypto from "node:crypto";
import { readFileSync } from "node:fs";
import ts from "typescript";
import { expect, test } from "vitest";
import * as core from "./index.ts";

// The README's first ```ts block is the embedding example, and the first one under "## Cron
// schedules" the cron example; they run here against the source, with their imports bound to the
// modules below and their console captured.
const modules: Record<string, unknown> = { "@opsconductor/core": core, "node:crypto": nodeCrypto };

function readmeExample(section?: string): string {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const start = section === undefined ? 0 : readme.indexOf(`\n## ${section}\n`);
  if (start < 0) throw new Error(`README.md has no section "${section}"`);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(start));
  if (!block) throw new Error("README.md has no ```ts code block" + (section === undefined ? "" : ` under "${section}"`));
  return block[1]!;
}

function bindImports(js: string): string {
  return js.replace(/^import\s*\{([^}]*)\}\s*from\s*"([^"]+)";$/gm, (_, names: string, specifier: string) => {
    if (!(specifier in modules)) throw new Error(`The README example imports ${specifier}, which this test does not provide.`);
    const bindings = names.split(",").map((name) => name.trim().replace(/\s+as\s+/, ": ")).filter(Boolean);
    return `const { ${bindings.join(", ")} } = __modules[${JSON.stringify(specifier)}];`;
  });
}

// Runs an example and returns what it printed and what its trailing comments say it prints.
async function runExample(source: string): Promise<{ logs: string[]; documented: string[] }> {
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
  return { logs, documented };
}

test("the README's embedding example runs and prints what its comments say", async () => {
  const { logs, documented } = await runExample(readmeExample());
  expect(documented).toEqual(["ops would run: Restart-Service 'Spooler'; (Get-Service 'Spooler').Status", "with password ***", "succeeded"]);
  expect(logs).toEqual(documented);
});

test("the README's cron example runs and prints what its comments say", async () => {
  const { logs, documented } = await runExample(readmeExample("Cron schedules"));
  expect(documented).toEqual([
    "2026-03-28T01:30:00.000Z",
    "2026-03-29T01:00:00.000Z",
    "2026-03-30T00:30:00.000Z",
    "- skipped -",
    '"0 3 * *" is not a valid cron expression: has 4 fields; expected 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)',
    '"Mars/Olympus" is not a known time zone; use an IANA name such as Europe/London or UTC',
  ]);
  expect(logs).toEqual(documented);
});
