// Runs the README's examples, so a README that no longer works fails the build.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startWinRMTestServer } from "../src/testing/index.ts";
import type { WinRMTestServer } from "../src/testing/index.ts";

const root = dirname(dirname(fileURLToPath(import.meta.url)));

async function example(name: string): Promise<string> {
  const readme = await readFile(join(root, "README.md"), "utf8");
  const match = new RegExp(`<!-- readme-example: ${name}\\b[^>]*-->\\s*\`\`\`ts\\n([\\s\\S]*?)\\n\`\`\``).exec(readme);
  if (!match?.[1]) throw new Error(`README.md has no "readme-example: ${name}" code block`);
  // The published package names resolve to this package's source.
  return match[1]
    .replaceAll('"@opsconductor/winrm/testing"', JSON.stringify(pathToFileURL(join(root, "src/testing/index.ts")).href))
    .replaceAll('"@opsconductor/winrm"', JSON.stringify(pathToFileURL(join(root, "src/index.ts")).href));
}

function replaceOnce(code: string, from: string, to: string): string {
  // Failing loudly when the README changes shape beats silently running against win01.contoso.com.
  expect(code.split(from).length - 1, `README example contains ${from} exactly once`).toBe(1);
  return code.replace(from, to);
}

let dir: string | undefined;
let server: WinRMTestServer | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  server = undefined;
  dir = undefined;
});

async function run(code: string): Promise<void> {
  dir = await mkdtemp(join(tmpdir(), "winrm-readme-"));
  const file = join(dir, "example.ts");
  await writeFile(file, code);
  await import(pathToFileURL(file).href);
}

describe("README.md", () => {
  it("usage example runs against an HTTPS + NTLM listener", async () => {
    server = await startWinRMTestServer({ https: true, auth: "ntlm", strictChannelBinding: true, users: { "CONTOSO\\deploy": "Tr1cky'pass" }, machineName: "WIN01" });
    vi.stubEnv("WINRM_PASSWORD", "Tr1cky'pass");
    let code = await example("usage");
    code = replaceOnce(code, '"win01.contoso.com"', JSON.stringify(server.host));
    code = replaceOnce(code, "port: 5986", `port: ${server.port}`);
    dir = await mkdtemp(join(tmpdir(), "winrm-readme-ca-"));
    const caFile = join(dir, "ca.pem");
    await writeFile(caFile, server.ca ?? "");
    code = replaceOnce(code, '"contoso-root-ca.pem"', JSON.stringify(caFile));
    const caDir = dir;
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      await run(code);
    } finally {
      await rm(caDir, { recursive: true, force: true });
    }
    expect(log.mock.calls.map((args) => args.join(" "))).toEqual([
      "connected: OS: 10.0.20348 SP: 0.0 Stack: 3.0",
      "Hello from WIN01 0",
      "[win01] deploying",
      expect.stringMatching(/^copied 14 bytes, sha256 [0-9a-f]{64}$/),
    ]);
    expect(server.files.get("C:\\Deploy\\config.json")?.toString()).toBe('{"env":"prod"}');
    expect(server.stats).toMatchObject({ openShells: 0, shellsCreated: 4, commandsStarted: 5, connections: 1 });
  });

  it("test server example runs as written", async () => {
    await run(await example("testing"));
  });
});
