// Where the CLI's connection comes from (flags, then environment, then a saved profile), the
// profile file's mode, and the table/diff output, through main() with captured streams.
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, test } from "vitest";
import { configPath, describeApply, main, resolveConnection, saveProfile } from "../src/index.ts";
import { painter } from "../src/io.ts";
import { table } from "../src/output.ts";

async function scratch(): Promise<NodeJS.ProcessEnv> {
  const home = await mkdtemp(join(tmpdir(), "opsconductor-cli-config-"));
  return { HOME: home, XDG_CONFIG_HOME: join(home, "xdg") };
}

describe("connection", () => {
  test("flags win over the environment, which wins over the profile", async () => {
    const env = await scratch();
    await saveProfile(env, "default", { url: "https://ops.example.com", token: "oc_profile" });
    expect(await resolveConnection({}, env)).toEqual({ url: "https://ops.example.com", token: "oc_profile", profile: "default" });
    const withEnv = { ...env, OPSCONDUCTOR_TOKEN: "oc_env" };
    expect((await resolveConnection({}, withEnv)).token).toBe("oc_env");
    expect((await resolveConnection({ token: "oc_flag" }, withEnv)).token).toBe("oc_flag");
  });

  test("a profile's token is never sent to another server", async () => {
    const env = await scratch();
    await saveProfile(env, "default", { url: "https://ops.example.com", token: "oc_profile" });
    expect(await resolveConnection({ url: "https://evil.example.net" }, env)).toMatchObject({ url: "https://evil.example.net", token: undefined });
  });

  test("the file is $XDG_CONFIG_HOME/opsconductor/config.json, mode 0600, even over an existing wider file", async () => {
    const env = await scratch();
    const path = configPath(env);
    expect(path).toBe(join(env.XDG_CONFIG_HOME!, "opsconductor", "config.json"));
    await saveProfile(env, "a", { url: "https://a.example.com", token: "oc_a" });
    await writeFile(path, await readFile(path, "utf8"), { mode: 0o644 });
    await saveProfile(env, "b", { url: "https://b.example.com", token: "oc_b" });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(env.XDG_CONFIG_HOME!, "opsconductor"))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(path, "utf8")).profiles).toMatchObject({ a: { token: "oc_a" }, b: { token: "oc_b" } });
    const noXdg = { HOME: env.HOME };
    expect(configPath(noXdg)).toBe(join(env.HOME!, ".config", "opsconductor", "config.json"));
  });
});

describe("main", () => {
  async function run(argv: string[], env: NodeJS.ProcessEnv) {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = "";
    let err = "";
    stdout.on("data", (c) => (out += c));
    stderr.on("data", (c) => (err += c));
    const code = await main(argv, { stdout, stderr, stdin: new PassThrough(), env });
    return { code, out, err };
  }

  test("a missing token is a usage error naming the ways to give one", async () => {
    const env = await scratch();
    const res = await run(["jobs", "list", "--url", "https://ops.example.com"], env);
    expect(res.err).toBe("opsconductor: no token for https://ops.example.com: pass --token, set OPSCONDUCTOR_TOKEN, or run opsconductor login\n");
    expect(res.code).toBe(2);
  });

  test("a bad URL and a bad --timeout are usage errors", async () => {
    const env = await scratch();
    expect((await run(["jobs", "list", "--url", "not a url", "--token", "oc_x"], env)).code).toBe(2);
    const timeout = await run(["runs", "wait", "x", "--timeout", "soon", "--url", "https://o.example.com", "--token", "oc_x"], env);
    expect(timeout.err).toContain('--timeout: "soon" is not a positive number of seconds');
    expect(timeout.code).toBe(2);
  });
});

describe("output", () => {
  test("tables align columns and show missing values as -", () => {
    expect(table([{ a: "x", b: null }, { a: "longer", b: ["t1", "t2"] }], [{ header: "name", value: (r) => r.a }, { header: "tags", value: (r) => r.b }])).toBe("NAME    TAGS\nx       -\nlonger  t1,t2\n");
  });

  test("an apply diff lists changes and the counts", () => {
    const text = describeApply(
      { dryRun: true, prune: true, summary: { create: 1, change: 1, unchanged: 3, delete: 1 }, changes: [{ kind: "target", name: "db-01", action: "change", fields: ["port"] }, { kind: "job", name: "Report", action: "create" }, { kind: "job", name: "Old", action: "delete" }, { kind: "job", name: "Same", action: "unchanged" }] },
      painter(false),
    );
    expect(text).toBe("~ target db-01 (would change: port)\n+ job Report (would create)\n- job Old (would delete)\nDry run: 1 to create, 1 to change, 3 unchanged, 1 to delete. Nothing was changed.\n");
  });
});
