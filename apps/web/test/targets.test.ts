import { freePort } from "@opsconductor/db/embedded";
import { createTestJob } from "@opsconductor/testing";
import { startApp } from "@opsconductor/testing/web";
import { startWinRMTestServer } from "@opsconductor/winrm/testing";
import { afterAll, describe, expect, test } from "vitest";

// The WinRM test server listens on loopback, which connection tests refuse unless allowed.
const app = await startApp({ CONNECTION_TEST_ALLOW: "127.0.0.1" });
const { admin, operator, viewer } = await app.signInAll();

const paths = (res: { body: { error: { details: { path: string }[] } } }) => res.body.error.details.map((d) => d.path);

// Operators bind these credentials, so each may go to the hosts these tests use.
const usagePolicy = ["*.corp.example", "old.example", "h", "127.0.0.1"];

const credential = async (name: string, type: "winrm" | "ssh" = "winrm", password = "pw-for-tests-only"): Promise<string> =>
  (await app.create("/api/credentials", admin, { name, type, username: "svc", usagePolicy, secret: { password } })).id;
const target = (body: Record<string, unknown>) => app.create<{ id: string; name: string }>("/api/targets", operator, body);

describe("/api/targets", () => {
  test("an operator registers a target with defaults (5985, windows, ntlm) and the full response shape; it is audited", async () => {
    const credentialId = await credential("web-admin");
    const res = await app.request("POST", "/api/targets", {
      token: operator,
      body: { name: "web-01", hostname: "web-01.corp.example", credentialId, tags: ["web", "prod", "web"], description: "Front-end IIS" },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      name: "web-01",
      hostname: "web-01.corp.example",
      port: 5985,
      os: "windows",
      winrm: { transport: "http", auth: "ntlm", allowUnencrypted: false, caCertificate: null, rejectUnauthorized: true },
      credential: { id: credentialId, name: "web-admin" },
      tags: ["web", "prod"],
      description: "Front-end IIS",
      dependsOn: [],
      lastTest: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect((await app.request("GET", `/api/targets/${res.body.id}`, { token: viewer })).body).toEqual(res.body);
    const audit = await app.prisma.auditLog.findFirstOrThrow({ where: { action: "target.create", entityId: res.body.id } });
    expect(audit).toMatchObject({ actorId: app.users.operator.id, summary: "registered target web-01 (web-01.corp.example:5985)" });
  });

  test("https defaults to port 5986; switching transport moves a default port, keeps a custom one", async () => {
    const t = await target({ name: "secure-01", hostname: "10.0.0.5", winrm: { transport: "https", rejectUnauthorized: false } });
    const row = await app.prisma.target.findUniqueOrThrow({ where: { id: t.id } });
    expect(row).toMatchObject({ port: 5986, winrmTransport: "https", winrmAuth: "ntlm", winrmRejectUnauthorized: false });
    const back = await app.request("PUT", `/api/targets/${t.id}`, { token: operator, body: { winrm: { transport: "http" } } });
    expect(back.body).toMatchObject({ port: 5985, winrm: { transport: "http", rejectUnauthorized: false } });
    const custom = await target({ name: "custom-port", hostname: "10.0.0.6", port: 15985 });
    expect((await app.request("PUT", `/api/targets/${custom.id}`, { token: operator, body: { winrm: { transport: "https" } } })).body.port).toBe(15985);
  });

  test("filters by tag, os and q (name, hostname or description, any case), with pagination", async () => {
    await target({ name: "filter-sql", hostname: "sql-01.lab", tags: ["filter", "db"], description: "Primary DATABASE" });
    await target({ name: "filter-app", hostname: "app-01.lab", tags: ["filter", "app"] });
    await target({ name: "filter-linux", hostname: "nix-01.lab", os: "linux", tags: ["filter"] });
    const names = async (query: string) => (await app.request("GET", `/api/targets?${query}`, { token: viewer })).body.items.map((t: { name: string }) => t.name);
    expect(await names("tag=filter")).toEqual(["filter-linux", "filter-app", "filter-sql"]);
    expect(await names("tag=filter&tag=db")).toEqual(["filter-sql"]);
    expect(await names("tag=filter&os=linux")).toEqual(["filter-linux"]);
    expect(await names("q=database")).toEqual(["filter-sql"]);
    expect(await names("q=APP-01")).toEqual(["filter-app"]);
    expect(await names("q=FILTER-L")).toEqual(["filter-linux"]);
    const page = await app.request("GET", "/api/targets?tag=filter&limit=2", { token: viewer });
    expect(page.body.items).toHaveLength(2);
    const rest = await app.request("GET", `/api/targets?tag=filter&limit=2&cursor=${page.body.nextCursor}`, { token: viewer });
    expect(rest.body).toMatchObject({ items: [{ name: "filter-sql" }], nextCursor: null });
    const bad = await app.request("GET", "/api/targets?os=solaris", { token: viewer });
    expect(bad.status).toBe(400);
    expect(paths(bad)).toEqual(["query.os"]);
  });

  test("bad input is a 400 naming the field; a duplicate name (any case) is a 409 naming body.name; unknown ids are 404", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ hostname: "h" }, "body.name"],
      [{ name: "x", hostname: "bad host!" }, "body.hostname"],
      [{ name: "x", hostname: "h", port: 70000 }, "body.port"],
      [{ name: "x", hostname: "h", winrm: { transport: "ftp" } }, "body.winrm.transport"],
      [{ name: "x", hostname: "h", winrm: { caCertificate: "not a pem" } }, "body.winrm.caCertificate"],
      [{ name: "x", hostname: "h", winrm: { auth: "basic" } }, "body.winrm.allowUnencrypted"],
      [{ name: "x", hostname: "h", tags: ["two words"] }, "body.tags.0"],
      [{ name: "x", hostname: "h", credentialId: "nope" }, "body.credentialId"],
      [{ name: "x", hostname: "h", credentialId: crypto.randomUUID() }, "body.credentialId"],
    ];
    for (const [body, path] of cases) {
      const res = await app.request("POST", "/api/targets", { token: operator, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(paths(res)).toEqual([path]);
    }
    expect(await app.prisma.target.count({ where: { name: "x" } })).toBe(0);
    await target({ name: "dup-target", hostname: "h1" });
    const dup = await app.request("POST", "/api/targets", { token: operator, body: { name: "DUP-target", hostname: "h2" } });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({ code: "conflict", details: [{ path: "body.name" }] });
    const missing = crypto.randomUUID();
    expect((await app.request("GET", `/api/targets/${missing}`, { token: viewer })).status).toBe(404);
    expect((await app.request("PUT", `/api/targets/${missing}`, { token: operator, body: { description: "x" } })).status).toBe(404);
    expect((await app.request("DELETE", `/api/targets/${missing}`, { token: operator })).status).toBe(404);
  });

  test("a target's credential must fit its OS: winrm for windows, ssh for linux", async () => {
    const ssh = await credential("linux-key", "ssh");
    const res = await app.request("POST", "/api/targets", { token: operator, body: { name: "win-with-ssh", hostname: "h", credentialId: ssh } });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0]).toEqual({ path: "body.credentialId", message: expect.stringContaining("needs a winrm credential") });
    const linux = await target({ name: "nix-with-ssh", hostname: "h", os: "linux", credentialId: ssh });
    expect(paths(await app.request("PUT", `/api/targets/${linux.id}`, { token: operator, body: { os: "windows" } }))).toEqual(["body.credentialId"]);
  });

  test("dependsOn: existing targets only, never itself, never a cycle (400 naming body.dependsOn)", async () => {
    const a = await target({ name: "dep-a", hostname: "a" });
    const b = await target({ name: "dep-b", hostname: "b", dependsOn: [a.id] });
    const c = await target({ name: "dep-c", hostname: "c", dependsOn: [b.id, a.id, b.id] });
    expect((await app.request("GET", `/api/targets/${c.id}`, { token: viewer })).body.dependsOn).toEqual([
      { id: a.id, name: "dep-a" },
      { id: b.id, name: "dep-b" },
    ]);

    const self = await app.request("PUT", `/api/targets/${a.id}`, { token: operator, body: { dependsOn: [a.id] } });
    expect(self.status).toBe(400);
    expect(self.body.error.details).toEqual([{ path: "body.dependsOn", message: expect.stringContaining("itself") }]);
    const cycle = await app.request("PUT", `/api/targets/${a.id}`, { token: operator, body: { dependsOn: [c.id] } });
    expect(cycle.status).toBe(400);
    expect(cycle.body.error.details).toEqual([{ path: "body.dependsOn", message: expect.stringContaining("dep-a → dep-c → dep-a") }]);
    const unknown = await app.request("POST", "/api/targets", { token: operator, body: { name: "dep-x", hostname: "x", dependsOn: [crypto.randomUUID()] } });
    expect(paths(unknown)).toEqual(["body.dependsOn"]);
    expect(await app.prisma.target.count({ where: { name: "dep-x" } })).toBe(0);
    expect(await app.prisma.targetDependency.count({ where: { targetId: a.id } })).toBe(0);

    const cleared = await app.request("PUT", `/api/targets/${c.id}`, { token: operator, body: { dependsOn: [] } });
    expect(cleared.body.dependsOn).toEqual([]);
    expect((await app.request("PUT", `/api/targets/${a.id}`, { token: operator, body: { dependsOn: [c.id] } })).status).toBe(200);
  });

  test("updates keep fields left out and audit what changed; deleting is audited and drops dependencies", async () => {
    const credentialId = await credential("upd-cred");
    const base = await target({ name: "upd-base", hostname: "base" });
    const t = await target({ name: "upd-01", hostname: "old.example", credentialId, tags: ["a"], description: "keep me", dependsOn: [base.id] });
    const res = await app.request("PUT", `/api/targets/${t.id}`, { token: operator, body: { hostname: "new.example", tags: ["b"], credentialId: null } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: "upd-01", hostname: "new.example", tags: ["b"], credential: null, description: "keep me", dependsOn: [{ id: base.id }] });
    const audit = await app.prisma.auditLog.findFirstOrThrow({ where: { action: "target.update", entityId: t.id } });
    expect(audit.details).toMatchObject({ fields: ["hostname", "credential", "tags"], changes: { hostname: { from: "old.example", to: "new.example" } } });

    expect((await app.request("DELETE", `/api/targets/${base.id}`, { token: operator })).status).toBe(204);
    expect((await app.request("GET", `/api/targets/${t.id}`, { token: viewer })).body.dependsOn).toEqual([]);
    expect(await app.prisma.auditLog.findFirst({ where: { action: "target.delete", entityId: base.id } })).toMatchObject({ summary: "deleted target upd-base" });
  });

  test("deleting a target that a job's current version names in a step (by name in any case, or by id) is a 409 naming the job; nothing is deleted", async () => {
    const byName = await target({ name: "named-by-job", hostname: "h" });
    const byId = await target({ name: "id-by-job", hostname: "h" });
    const free = await target({ name: "named-by-no-job", hostname: "h" });
    await createTestJob(app.prisma, { name: "job-naming", definition: { name: "job-naming", steps: [{ type: "winrm.exec", target: "NAMED-BY-JOB", command: "hostname" }] } });
    await createTestJob(app.prisma, { name: "job-by-id", definition: { name: "job-by-id", steps: [{ type: "winrm.exec", target: byId.id, command: "hostname" }] } });
    const refused = await app.request("DELETE", `/api/targets/${byName.id}`, { token: operator });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "target_in_use", message: "target named-by-job is named by the steps of job job-naming: change that job first" });
    expect((await app.request("DELETE", `/api/targets/${byId.id}`, { token: operator })).body.error.message).toContain("job job-by-id");
    expect(await app.prisma.target.count({ where: { id: { in: [byName.id, byId.id] } } })).toBe(2);
    expect(await app.prisma.auditLog.count({ where: { action: "target.delete", entityId: { in: [byName.id, byId.id] } } })).toBe(0);
    expect((await app.request("DELETE", `/api/targets/${free.id}`, { token: operator })).status).toBe(204);
  });

  test("viewers read but cannot change targets; anonymous callers get 401", async () => {
    const t = await target({ name: "ro-01", hostname: "ro" });
    expect((await app.request("GET", "/api/targets", { token: viewer })).status).toBe(200);
    expect((await app.request("POST", "/api/targets", { token: viewer, body: { name: "ro-02", hostname: "ro" } })).status).toBe(403);
    expect((await app.request("PUT", `/api/targets/${t.id}`, { token: viewer, body: { hostname: "x" } })).status).toBe(403);
    expect((await app.request("DELETE", `/api/targets/${t.id}`, { token: viewer })).status).toBe(403);
    expect((await app.request("GET", "/api/targets")).status).toBe(401);
  });
});

describe("POST /api/targets/{id}/test-winrm", () => {
  const commands: string[] = [];
  const winrmPromise = startWinRMTestServer({
    users: { svc: "right-winrm-password" },
    auth: "ntlm",
    machineName: "WIN-TEST-01",
    handler: (ctx) => {
      commands.push(`${ctx.shell}:${ctx.commandLine}`);
      if (ctx.shell === "cmd" && ctx.commandLine.trim() === "hostname") ctx.stdout.write(`${ctx.machineName}\r\n`);
      else return 1;
    },
  });
  afterAll(async () => (await winrmPromise).close());

  test("connects with the target's credential, answers the host name and latency, stores and audits the result", async () => {
    const winrm = await winrmPromise;
    const credentialId = await credential("winrm-right", "winrm", "right-winrm-password");
    const t = await target({ name: "winrm-ok", hostname: "127.0.0.1", port: winrm.port, credentialId });
    const res = await app.request("POST", `/api/targets/${t.id}/test-winrm`, { token: operator });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, latencyMs: expect.any(Number), hostname: "WIN-TEST-01" });
    expect(winrm.stats.operations.identify).toBeGreaterThan(0);
    expect(commands).toEqual(["cmd:hostname"]);
    const shown = await app.request("GET", `/api/targets/${t.id}`, { token: viewer });
    expect(shown.body.lastTest).toEqual({ at: expect.any(String), ok: true, latencyMs: res.body.latencyMs, message: "connected; hostname WIN-TEST-01" });
    const audit = await app.prisma.auditLog.findFirstOrThrow({ where: { action: "target.test_winrm", entityId: t.id } });
    expect(audit).toMatchObject({ actorId: app.users.operator.id, details: { ok: true, hostname: "WIN-TEST-01" } });
  });

  test("a wrong password answers ok: false with a hint to check the credential, and is stored as the last test", async () => {
    const winrm = await winrmPromise;
    const credentialId = await credential("winrm-wrong", "winrm", "not-the-password");
    const t = await target({ name: "winrm-bad-pass", hostname: "127.0.0.1", port: winrm.port, credentialId });
    const res = await app.request("POST", `/api/targets/${t.id}/test-winrm`, { token: operator });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: false, error: expect.stringContaining("authentication failed"), hint: expect.stringMatching(/check the credential/i) });
    expect(res.text).not.toContain("not-the-password");
    expect(await app.prisma.target.findUniqueOrThrow({ where: { id: t.id } })).toMatchObject({ lastTestOk: false, lastTestMessage: res.body.error });
    expect(await app.prisma.auditLog.findFirst({ where: { action: "target.test_winrm", entityId: t.id } })).toMatchObject({ details: { ok: false } });
  });

  test("a refused connection points at the listener, port and firewall; a target without a credential says so", async () => {
    const credentialId = await credential("winrm-nowhere");
    const port = await freePort();
    const t = await target({ name: "winrm-refused", hostname: "127.0.0.1", port, credentialId });
    const res = await app.request("POST", `/api/targets/${t.id}/test-winrm`, { token: operator });
    expect(res.body).toMatchObject({ ok: false, hint: expect.stringContaining(`listener on port ${port}`) });
    expect(res.body.hint).toMatch(/firewall/);

    const bare = await target({ name: "winrm-bare", hostname: "127.0.0.1" });
    const none = await app.request("POST", `/api/targets/${bare.id}/test-winrm`, { token: operator });
    expect(none.body).toMatchObject({ ok: false, error: "target winrm-bare has no credential", hint: expect.stringContaining("credentialId") });
  });

  test("viewers may not run it; unknown targets are 404", async () => {
    const t = await target({ name: "winrm-viewer", hostname: "127.0.0.1" });
    expect((await app.request("POST", `/api/targets/${t.id}/test-winrm`, { token: viewer })).status).toBe(403);
    expect((await app.request("POST", `/api/targets/${crypto.randomUUID()}/test-winrm`, { token: operator })).status).toBe(404);
  });
});
