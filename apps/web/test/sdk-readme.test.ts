// The SDK README's example runs against the running app and a worker with the WinRM test server,
// with its imports bound to the SDK and its console captured: it must print what its comments say.
import { readFileSync } from "node:fs";
import * as sdk from "@opsconductor/sdk";
import { PASSWORDS, startApp } from "@opsconductor/testing/web";
import { startAppWorker, windowsLikeHandler } from "@opsconductor/testing/worker";
import { startWinRMTestServer } from "@opsconductor/winrm/testing";
import ts from "typescript";
import { afterAll, expect, test } from "vitest";

const app = await startApp();
const winrm = await startWinRMTestServer({ users: { svc_ops: "Winter2026!secret" }, auth: "ntlm", handler: windowsLikeHandler });
afterAll(() => winrm.close());
await startAppWorker(app);

// What the example expects to exist: a target, the sample job, and an operator's API token.
const admin = sdk.createClient({ baseUrl: app.url, username: "admin", password: PASSWORDS.admin });
const credential = await admin.credentials.create({ name: "svc-ops", type: "winrm", username: "svc_ops", usagePolicy: ["127.0.0.1"], secret: { password: "Winter2026!secret" } });
await admin.targets.create({ name: "sample-windows-server", hostname: "127.0.0.1", port: winrm.port, os: "windows", winrm: { transport: "http", auth: "ntlm" }, credentialId: credential.id });
await admin.jobs.create({
  name: "Restart spooler",
  parameters: { svc: "Spooler" },
  steps: [{ id: "restart", type: "winrm.exec", shell: "powershell", target: "sample-windows-server", command: "Restart-Service {{ svc }}; (Get-Service {{ svc }}).Status" }],
});
const operator = sdk.createClient({ baseUrl: app.url, username: "operator", password: PASSWORDS.operator });
const { token } = await operator.tokens.create({ name: "readme" });

function example(): string {
  const readme = readFileSync(new URL("../../../packages/sdk/README.md", import.meta.url), "utf8");
  const block = /```ts\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error("packages/sdk/README.md has no ```ts block");
  return block[1]!;
}

test("the README's pipeline example runs against the app and prints what its comments say", async () => {
  const source = example();
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023, verbatimModuleSyntax: false } });
  const body = outputText.replace(/^import\s*\{([^}]*)\}\s*from\s*"@opsconductor\/sdk";$/m, (_m, names: string) => `const {${names}} = __sdk;`);
  expect(body).not.toMatch(/^\s*import\s/m);
  const logs: string[] = [];
  const console = { log: (...args: unknown[]) => logs.push(args.map(String).join(" ")) };
  const process = { env: { OPSCONDUCTOR_URL: app.url, OPSCONDUCTOR_TOKEN: token } };
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<void>;
  await new AsyncFunction("__sdk", "console", "process", body)(sdk, console, process);

  const documented = source
    .trimEnd()
    .split("\n")
    .reverse()
    .filter((_, index, lines) => lines.slice(0, index + 1).every((line) => line.startsWith("// ")))
    .reverse()
    .map((line) => line.slice(3));
  expect(documented).toEqual(["run succeeded", "Running", "succeeded true", "sample-windows-server", "404 not_found"]);
  expect(logs).toEqual(documented);
});
