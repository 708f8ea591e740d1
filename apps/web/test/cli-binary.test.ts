// The opsconductor CLI as a subprocess against the running app and a worker with the WinRM test
// server: login writes a 0600 profile holding a token (never the password); `jobs run --follow`
// streams the output while the run is still going and exits 0 / 1 / 3 with the run's result; usage
// errors exit 2 with one line; `export` then `apply --dry-run` on the same instance changes nothing;
// `apply` onto a second, empty instance recreates its jobs, targets and schedules.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createClient } from "@opsconductor/sdk";
import { PASSWORDS, startApp } from "@opsconductor/testing/web";
import { startAppWorker, windowsLikeHandler } from "@opsconductor/testing/worker";
import { startWinRMTestServer } from "@opsconductor/winrm/testing";
import { afterAll, describe, expect, test } from "vitest";
import { parse } from "yaml";

const BIN = resolve(import.meta.dirname, "../../../packages/cli/src/bin.ts");

const app = await startApp({ CONNECTION_TEST_ALLOW: "127.0.0.1" });
const winrm = await startWinRMTestServer({ users: { svc_ops: "Winter2026!secret" }, auth: "ntlm", handler: windowsLikeHandler });
afterAll(() => winrm.close());
await startAppWorker(app);

const admin = createClient({ baseUrl: app.url, username: "admin", password: PASSWORDS.admin });
const operator = createClient({ baseUrl: app.url, username: "operator", password: PASSWORDS.operator });
const minted = await operator.tokens.create({ name: "cli test" });
const credential = await admin.credentials.create({ name: "svc-ops", type: "winrm", username: "svc_ops", usagePolicy: ["127.0.0.1"], secret: { password: "Winter2026!secret" } });
await operator.targets.create({ name: "sample-windows-server", hostname: "127.0.0.1", port: winrm.port, os: "windows", winrm: { transport: "http", auth: "ntlm" }, credentialId: credential.id, tags: ["lab"] });
const exec = (id: string, command: string) => ({ id, type: "winrm.exec" as const, shell: "powershell" as const, target: "sample-windows-server", command });
const restart = await operator.jobs.create({ name: "Restart spooler", parameters: { svc: "Spooler" }, steps: [exec("restart", "Restart-Service {{ svc }}; (Get-Service {{ svc }}).Status")] });
await operator.jobs.create({ name: "Slow talker", steps: [exec("talk", "Write-Output 'first line'; Start-Sleep -Seconds 3; Write-Output 'last line'")] });
await operator.jobs.create({ name: "Broken", steps: [exec("broken", "Stop-Everything -Now")] });
await operator.jobs.create({ name: "Sleeper", steps: [exec("sleep", "Start-Sleep -Seconds 20")] });
await operator.schedules.create({ jobId: restart.id, name: "nightly", cron: "0 2 * * *", timezone: "Europe/London", parameters: { svc: "W32Time" } });

const home = await mkdtemp(join(tmpdir(), "opsconductor-cli-"));

interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Starts the CLI with a clean environment (no OPSCONDUCTOR_* of the caller's, HOME and XDG config in a scratch folder). */
function start(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Spawned {
  const env = {} as NodeJS.ProcessEnv;
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("OPSCONDUCTOR_") && k !== "NO_COLOR" && k !== "FORCE_COLOR") env[k] = v;
  Object.assign(env, { HOME: home, XDG_CONFIG_HOME: join(home, "config") }, options.env);
  const child = spawn(process.execPath, ["--conditions=@opsconductor/source", BIN, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  if (options.input !== undefined) child.stdin!.end(options.input);
  else child.stdin!.end();
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveDone) => child.on("close", (code) => resolveDone({ code, stdout, stderr })));
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** Runs the CLI with the operator's token in the environment. */
function cli(args: string[], options: { env?: Record<string, string>; input?: string } = {}) {
  return start(args, { ...options, env: { OPSCONDUCTOR_URL: app.url, OPSCONDUCTOR_TOKEN: minted.token, ...options.env } }).done;
}

const ESC = "\u001b[";

describe("login and profiles", () => {
  test("login asks for the password, stores a token in a 0600 file (never the password), and later commands use the profile", async () => {
    const login = await start(["login", "--url", app.url, "--username", "operator", "--token-name", "laptop"], { input: `${PASSWORDS.operator}\n` }).done;
    expect(login.stderr).toContain('saved in profile "default"');
    expect(login.code).toBe(0);
    const path = join(home, "config", "opsconductor", "config.json");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const text = await readFile(path, "utf8");
    expect(text).not.toContain(PASSWORDS.operator);
    const saved = JSON.parse(text) as { profiles: { default: { url: string; token: string } } };
    expect(saved.profiles.default).toMatchObject({ url: app.url });
    expect(saved.profiles.default.token).toMatch(/^oc_/);

    const listed = await start(["jobs", "list"]).done;
    expect(listed.stderr).toBe("");
    expect(listed.code).toBe(0);
    expect(listed.stdout.split("\n")[0]).toMatch(/^NAME\s+VERSION\s+ACTIVE/);
    expect(listed.stdout).toContain("Restart spooler");

    const tokens = await start(["tokens", "list", "--output", "json"]).done;
    expect(tokens.code).toBe(0);
    const names = (JSON.parse(tokens.stdout) as { name: string }[]).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["laptop", "cli test"]));
    expect(tokens.stdout).not.toContain("oc_");
  });

  test("a wrong password is one line on stderr, exit 1, and writes no profile", async () => {
    const res = await start(["login", "--url", app.url, "--username", "viewer", "--profile", "nope"], { input: "wrong-password\n" }).done;
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split("\n").at(-1)).toBe("opsconductor: wrong username or password [401 invalid_credentials]");
    expect(res.stderr).not.toMatch(/\n\s+at /);
    const missing = await start(["jobs", "list", "--profile", "nope"]).done;
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no profile "nope"');
  });
});

describe("jobs run --follow", () => {
  test("streams the output while the run is still going and exits 0 when it succeeds", async () => {
    const run = start(["jobs", "run", "Slow talker", "--follow"], { env: { OPSCONDUCTOR_URL: app.url, OPSCONDUCTOR_TOKEN: minted.token } });
    await expect.poll(run.stdout, { timeout: 30_000 }).toContain("first line");
    // The first line is out, the run is still going: the output is live, not printed at the end.
    expect(run.stdout()).not.toContain("last line");
    expect(run.child.exitCode).toBeNull();
    const runId = /run ([0-9a-f-]{36})/.exec(run.stderr())![1]!;
    expect((await operator.runs.get(runId)).status).toBe("running");
    const { code, stdout, stderr } = await run.done;
    expect(stdout).toMatch(/first line\r?\n[\s\S]*last line/);
    expect(stderr).toContain(`run ${runId} succeeded`);
    expect(stdout + stderr).not.toContain(ESC);
    expect(code).toBe(0);
  });

  test("passes --param values and prints the job's output", async () => {
    const { code, stdout } = await cli(["jobs", "run", "restart SPOOLER", "--param", "svc=Spooler", "--follow"]);
    expect(stdout).toContain("WARNING: Waiting for service 'Spooler' to stop...");
    expect(stdout).toContain("Running");
    expect(code).toBe(0);
  });

  test("a failing job exits 1; colours appear only when forced (a terminal), never with NO_COLOR", async () => {
    const failed = await cli(["jobs", "run", "Broken", "--follow"]);
    expect(failed.stdout).toContain("Stop-Everything : The term is not recognized");
    expect(failed.stderr).toMatch(/run [0-9a-f-]{36} failed/);
    expect(failed.stdout + failed.stderr).not.toContain(ESC);
    expect(failed.code).toBe(1);

    const coloured = await cli(["jobs", "run", "Broken", "--follow"], { env: { FORCE_COLOR: "1" } });
    expect(coloured.stdout).toContain(`${ESC}31mStop-Everything`);
    expect(coloured.code).toBe(1);
    const plain = await cli(["jobs", "run", "Broken", "--follow"], { env: { FORCE_COLOR: "1", NO_COLOR: "1" } });
    expect(plain.stdout + plain.stderr).not.toContain(ESC);
    expect(plain.code).toBe(1);
  });

  test("--timeout exits 3 while the run goes on; a canceled run exits 3 from runs wait", async () => {
    const timedOut = await cli(["jobs", "run", "Sleeper", "--follow", "--timeout", "1"]);
    expect(timedOut.stderr).toMatch(/was not finished after 1 s/);
    expect(timedOut.code).toBe(3);
    const runId = /run ([0-9a-f-]{36})/.exec(timedOut.stderr)![1]!;
    const waiting = start(["runs", "wait", runId], { env: { OPSCONDUCTOR_URL: app.url, OPSCONDUCTOR_TOKEN: minted.token } });
    const canceled = await cli(["runs", "cancel", runId]);
    expect(canceled.code).toBe(0);
    expect(canceled.stdout).toContain(`run ${runId}`);
    const waited = await waiting.done;
    expect(waited.stdout.trim()).toBe(`run ${runId} canceled`);
    expect(waited.code).toBe(3);
  });
});

describe("reading", () => {
  test("runs list, runs get and runs logs; --output json for scripts", async () => {
    const list = await cli(["runs", "list", "--job", "Restart spooler", "--output", "json"]);
    expect(list.code).toBe(0);
    const runs = JSON.parse(list.stdout) as { id: string; status: string; jobName: string }[];
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.every((r) => r.jobName === "Restart spooler")).toBe(true);
    const one = await cli(["runs", "get", runs[0]!.id, "--output", "json"]);
    expect(JSON.parse(one.stdout)).toMatchObject({ id: runs[0]!.id, status: "succeeded", parameters: { svc: "Spooler" } });
    const table = await cli(["runs", "get", runs[0]!.id]);
    expect(table.stdout).toMatch(/^status:\s+succeeded$/m);
    const logs = await cli(["runs", "logs", runs[0]!.id]);
    expect(logs.stdout).toContain("WARNING: Waiting for service 'Spooler' to stop...");
    expect(logs.code).toBe(0);
  });

  test("targets list and test, schedules list, jobs get", async () => {
    const targets = await cli(["targets", "list", "--output", "json"]);
    expect(JSON.parse(targets.stdout)).toEqual([expect.objectContaining({ name: "sample-windows-server", credential: expect.objectContaining({ name: "svc-ops" }) })]);
    const tested = await cli(["targets", "test", "sample-windows-server"]);
    expect(tested.stdout).toMatch(/^ok sample-windows-server: /);
    expect(tested.code).toBe(0);
    const schedules = await cli(["schedules", "list"]);
    expect(schedules.stdout).toMatch(/Restart spooler\s+nightly\s+0 2 \* \* \*\s+Europe\/London\s+yes/);
    const job = await cli(["jobs", "get", "Restart spooler", "--output", "json"]);
    expect(JSON.parse(job.stdout)).toMatchObject({ name: "Restart spooler", definition: { parameters: { svc: { default: "Spooler" } } } });
  });
});

describe("errors and usage", () => {
  test.each([
    [["jobs", "run"], /missing required argument 'job'/],
    [["jobs", "run", "Broken", "--param", "novalue"], /--param: "novalue" is not name=value/],
    [["jobs", "frobnicate"], /unknown command 'frobnicate'/],
    [["runs", "list", "--output", "xml"], /--output/],
    [["apply"], /required option '-f, --file <path>'/],
    [["jobs"], /Usage: opsconductor jobs/],
  ])("%j is a usage error: exit 2", async (args, message) => {
    const res = await cli(args);
    expect(res.stderr).toMatch(message);
    expect(res.code).toBe(2);
  });

  test("without a server or token: exit 2 saying what to set", async () => {
    const res = await start(["runs", "list"], { env: { XDG_CONFIG_HOME: join(home, "empty") } }).done;
    expect(res.stderr.trim()).toBe("opsconductor: no server: pass --url, set OPSCONDUCTOR_URL, or run opsconductor login");
    expect(res.code).toBe(2);
  });

  test("the API's refusals are one line with its message and field, exit 1 (2 for a refused input)", async () => {
    const wrong = await cli(["jobs", "list"], { env: { OPSCONDUCTOR_TOKEN: "oc_not-a-real-token" } });
    expect(wrong.stderr.trim().split("\n")).toHaveLength(1);
    expect(wrong.stderr).toMatch(/^opsconductor: the API token is not known: .*\[401 /);
    expect(wrong.code).toBe(1);
    const unknown = await cli(["jobs", "run", "No such job"]);
    expect(unknown.stderr.trim()).toBe('opsconductor: no job named or with id "No such job"');
    expect(unknown.code).toBe(1);
    const badParam = await cli(["jobs", "run", "Restart spooler", "--param", "nosuch=1"]);
    expect(badParam.stderr.trim().split("\n")).toHaveLength(1);
    expect(badParam.stderr).toMatch(/nosuch/);
    expect(badParam.stderr).toMatch(/\[400 /);
    expect(badParam.code).toBe(2);
  });

  test("every command has --help with examples", async () => {
    for (const args of [[], ["jobs", "run"], ["runs", "logs"], ["targets", "test"], ["schedules", "list"], ["tokens", "create"], ["export"], ["apply"], ["login"]]) {
      const res = await cli([...args, "--help"]);
      expect(res.stdout, args.join(" ")).toContain("Examples:\n  $ opsconductor");
      expect(res.code).toBe(0);
    }
  });

  test("tokens revoke: the revoked token stops working", async () => {
    const created = await operator.tokens.create({ name: "short-lived" });
    const revoked = await cli(["tokens", "revoke", created.id, "--username", "operator"], { input: `${PASSWORDS.operator}\n` });
    expect(revoked.stdout.trim()).toBe(`revoked token "short-lived" (${created.id})`);
    const after = await cli(["jobs", "list"], { env: { OPSCONDUCTOR_TOKEN: created.token } });
    expect(after.stderr).toMatch(/\[401 /);
    expect(after.code).toBe(1);
  });
});

describe("configuration as code", () => {
  const file = join(home, "ops.yaml");

  test("export then apply --dry-run on the same instance reports no change", async () => {
    const exported = await cli(["export"]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).not.toContain("Winter2026!secret");
    const document = parse(exported.stdout) as { kind: string; jobs: unknown[]; targets: unknown[]; schedules: unknown[] };
    expect(document).toMatchObject({ apiVersion: "opsconductor.io/v1", kind: "Configuration" });
    expect(document.jobs).toHaveLength(4);
    await writeFile(file, exported.stdout);
    const dry = await cli(["apply", "-f", file, "--dry-run"]);
    expect(dry.stdout.trim()).toBe("No changes: 6 unchanged.");
    expect(dry.code).toBe(0);
    const json = await cli(["apply", "-f", file, "--dry-run", "--output", "json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ dryRun: true, summary: { create: 0, change: 0, delete: 0, unchanged: 6 } });
  });

  test("apply onto a second, empty instance recreates the jobs, targets and schedules", async () => {
    const empty = await startApp();
    const emptyAdmin = createClient({ baseUrl: empty.url, username: "admin", password: PASSWORDS.admin });
    // Credentials are not exported (they hold secrets): the second instance has its own of that name.
    await emptyAdmin.credentials.create({ name: "svc-ops", type: "winrm", username: "svc_ops", usagePolicy: ["127.0.0.1"], secret: { password: "another-secret" } });
    const token = (await createClient({ baseUrl: empty.url, username: "operator", password: PASSWORDS.operator }).tokens.create({ name: "apply" })).token;
    const env = { OPSCONDUCTOR_URL: empty.url, OPSCONDUCTOR_TOKEN: token };

    const dry = await cli(["apply", "-f", file, "--dry-run"], { env });
    expect(dry.stdout).toContain("+ job Restart spooler (would create)");
    expect(dry.stdout).toContain("Dry run: 6 to create, 0 to change, 0 unchanged, 0 to delete. Nothing was changed.");
    expect((await emptyAdmin.jobs.list()).items).toHaveLength(0);

    const applied = await cli(["apply", "-f", "-"], { env, input: await readFile(file, "utf8") });
    expect(applied.stdout).toContain("+ target sample-windows-server created");
    expect(applied.stdout.trim().split("\n").at(-1)).toBe("Applied: 6 created, 0 changed, 0 unchanged, 0 deleted.");
    expect(applied.code).toBe(0);

    const names = async (client: ReturnType<typeof createClient>) => ({
      jobs: (await client.jobs.list().all()).map((j) => j.name).sort(),
      targets: (await client.targets.list().all()).map((t) => `${t.name} ${t.hostname}:${t.port} ${t.credential?.name}`).sort(),
      schedules: (await client.schedules.list().all()).map((s) => `${s.jobName} ${s.name} ${s.cron} ${s.timezone}`).sort(),
    });
    expect(await names(emptyAdmin)).toEqual(await names(admin));
    const again = await cli(["export", "--format", "json"], { env });
    const original = await cli(["export", "--format", "json"]);
    const strip = (text: string) => ({ ...(JSON.parse(text) as object), metadata: undefined });
    expect(strip(again.stdout)).toEqual(strip(original.stdout));
  });

  test("a document the server refuses names the field; a file that is not YAML is a usage error", async () => {
    const bad = join(home, "bad.yaml");
    await writeFile(bad, "apiVersion: opsconductor.io/v1\nkind: Configuration\ntargets:\n  - { name: x, hostname: x.example.test, port: 99999 }\n");
    const refused = await cli(["apply", "-f", bad, "--dry-run"]);
    expect(refused.stderr).toMatch(/body\.targets\.0\.port/);
    expect(refused.code).toBe(2);
    await writeFile(bad, "{ not: [yaml");
    const broken = await cli(["apply", "-f", bad]);
    expect(broken.stderr).toMatch(/not YAML or JSON/);
    expect(broken.code).toBe(2);
  });
});
