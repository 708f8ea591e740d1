// Where a credential may be sent: its usage policy on every binding and re-pointing of a target,
// checked again by test-winrm; and which addresses the web process's connection test may reach.
import net from "node:net";
import { parseNetworkList } from "@opsconductor/db";
import { startCaptureServer } from "@opsconductor/testing";
import { startApp } from "@opsconductor/testing/web";
import { WinRMClient, WinRMConnectionError } from "@opsconductor/winrm";
import { startWinRMTestServer } from "@opsconductor/winrm/testing";
import { afterAll, describe, expect, test } from "vitest";
import { guardedLookup } from "../app/services/targets/destinations.server.ts";

// Loopback stays denied by default; these tests allow exactly the two addresses their servers use.
const app = await startApp({ CONNECTION_TEST_ALLOW: "127.0.0.2,127.0.0.3" });
const { admin, operator } = await app.signInAll();
const PASSWORD = "policy-test-password-1";
const winrm = await startWinRMTestServer({ host: "127.0.0.2", users: { svc: PASSWORD }, auth: "ntlm", handler: (ctx) => void ctx.stdout.write("WIN-POLICY\r\n") });
afterAll(() => winrm.close());
const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

let n = 0;
const credential = (usagePolicy: string[]) =>
  app.create<{ id: string; name: string }>("/api/credentials", admin, { name: `pol-${++n}`, type: "winrm", username: "svc", usagePolicy, secret: { password: PASSWORD } });

const post = (token: string, body: Record<string, unknown>) => app.request("POST", "/api/targets", { token, body: { name: `t-${++n}`, ...body } });
const put = (token: string, id: string, body: Record<string, unknown>) => app.request("PUT", `/api/targets/${id}`, { token, body });
const refusals = (credentialId: string) => app.prisma.auditLog.findMany({ where: { action: "credential.policy_refused", entityId: credentialId }, orderBy: { id: "asc" } });

describe("binding a credential follows its usage policy", () => {
  test("an operator binds a credential only to hosts its policy lists; outside it, create and update are a 403 naming the credential and host, audited, and nothing is stored", async () => {
    const cred = await credential(["*.corp.example", "10.9.0.0/16"]);
    expect((await post(operator, { hostname: "web-01.corp.example", credentialId: cred.id })).status).toBe(201);
    expect((await post(operator, { hostname: "10.9.1.2", credentialId: cred.id })).status).toBe(201);

    const refused = await post(operator, { name: "stolen", hostname: "attacker.example", credentialId: cred.id, winrm: { transport: "http", auth: "basic", allowUnencrypted: true } });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toEqual({
      code: "credential_policy",
      message: `credential ${cred.name} may not be used against host attacker.example: the host is outside the credential's usage policy (an admin may extend the policy or bind it)`,
      details: [{ path: "body.credentialId", message: expect.stringContaining("attacker.example") }],
    });
    expect(await app.prisma.target.count({ where: { name: "stolen" } })).toBe(0);
    // A name never matches a CIDR range, whatever it resolves to.
    expect((await post(operator, { hostname: "10.9.1.2.nip.io", credentialId: cred.id })).status).toBe(403);

    const plain = (await post(operator, { hostname: "attacker.example" })).body;
    const bind = await put(operator, plain.id, { credentialId: cred.id });
    expect(bind.status).toBe(403);
    expect(bind.body.error.code).toBe("credential_policy");
    expect((await app.prisma.target.findUniqueOrThrow({ where: { id: plain.id } })).credentialId).toBeNull();

    const audits = await refusals(cred.id);
    expect(audits.map((a) => (a.details as { operation: string; hostname: string }).operation)).toEqual(["target.create", "target.create", "target.update"]);
    expect(audits[0]).toMatchObject({
      actorId: app.users.operator.id,
      entityType: "credential",
      details: { operation: "target.create", credential: cred.name, target: "stolen", hostname: "attacker.example", auth: "basic", transport: "http" },
    });
    expect(JSON.stringify(audits.map((a) => [a.summary, a.details]))).not.toContain(PASSWORD);
  });

  test("an operator cannot re-point a target that has a credential outside its policy (hostname, port, transport, auth, TLS) but may edit everything else", async () => {
    const cred = await credential(["*.corp.example"]);
    const inside = (await post(operator, { hostname: "app-01.corp.example", credentialId: cred.id })).body;
    expect((await put(operator, inside.id, { hostname: "app-02.corp.example", port: 15985, winrm: { transport: "https" } })).status).toBe(200);
    expect((await put(operator, inside.id, { hostname: "attacker.example" })).status).toBe(403);

    // The admin bound this one outside the policy; operators may not move it anywhere.
    const adminBound = await post(admin, { hostname: "legacy.other.example", credentialId: cred.id });
    expect(adminBound.status).toBe(201);
    const before = await app.prisma.target.findUniqueOrThrow({ where: { id: adminBound.body.id } });
    expect(before.credentialApproval).toMatch(/^[0-9a-f]{64}$/);
    const changes = [
      { hostname: "attacker.example" },
      { hostname: "legacy.other.example.attacker.example" },
      { port: 80 },
      { winrm: { transport: "https" } },
      { winrm: { auth: "basic", allowUnencrypted: true } },
      { winrm: { allowUnencrypted: true } },
      { winrm: { rejectUnauthorized: false } },
      { winrm: { caCertificate: PEM } },
    ];
    for (const change of changes) {
      const res = await put(operator, adminBound.body.id, change);
      expect(res.status, JSON.stringify(change)).toBe(403);
      expect(res.body.error.code).toBe("credential_policy");
    }
    const { updatedAt: _u1, ...unchanged } = before;
    expect(await app.prisma.target.findUniqueOrThrow({ where: { id: adminBound.body.id } })).toMatchObject(unchanged);
    expect((await refusals(cred.id)).length).toBe(1 + changes.length);

    const edited = await put(operator, adminBound.body.id, { name: `renamed-${n}`, description: "edited", tags: ["legacy"], winrm: { auth: "ntlm" } });
    expect(edited.status).toBe(200);
    expect((await app.prisma.target.findUniqueOrThrow({ where: { id: adminBound.body.id } })).credentialApproval).toBe(before.credentialApproval);
    // Unbinding sends nothing anywhere; binding it again is the admin's act.
    expect((await put(operator, adminBound.body.id, { credentialId: null })).status).toBe(200);
    expect((await put(operator, adminBound.body.id, { credentialId: cred.id })).status).toBe(403);
    expect((await put(admin, adminBound.body.id, { credentialId: cred.id })).status).toBe(200);
  });

  test("an empty policy means only an admin may bind the credential; an admin binds and re-points anywhere", async () => {
    const cred = await credential([]);
    const refused = await post(operator, { hostname: "web-01.corp.example", credentialId: cred.id });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toBe(`credential ${cred.name} may not be used against host web-01.corp.example: its usage policy is empty, so only an admin may bind it to a target`);
    const bound = await post(admin, { hostname: "web-01.corp.example", credentialId: cred.id });
    expect(bound.status).toBe(201);
    expect((await put(admin, bound.body.id, { hostname: "web-09.corp.example", port: 5986 })).status).toBe(200);
    expect((await put(operator, bound.body.id, { hostname: "web-01.corp.example" })).status).toBe(403);
  });
});

describe("test-winrm checks the policy again before the secret is used", () => {
  test("within the policy it connects; a row re-pointed behind the API's back is a 403, audited, and nothing reaches the new host", async () => {
    const capture = await startCaptureServer("127.0.0.3");
    const cred = await credential(["127.0.0.2"]);
    const t = (await post(operator, { hostname: "127.0.0.2", port: winrm.port, credentialId: cred.id })).body;
    const ok = await app.request("POST", `/api/targets/${t.id}/test-winrm`, { token: operator });
    expect(ok.body).toEqual({ ok: true, latencyMs: expect.any(Number), hostname: "WIN-POLICY" });

    await app.prisma.target.update({ where: { id: t.id }, data: { hostname: "127.0.0.3", port: capture.port, winrmAuth: "basic", winrmAllowUnencrypted: true } });
    const refused = await app.request("POST", `/api/targets/${t.id}/test-winrm`, { token: operator });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: "credential_policy", message: expect.stringContaining(`credential ${cred.name} may not be used against host 127.0.0.3`) });
    expect(capture.connections()).toBe(0);
    expect((await refusals(cred.id)).map((a) => a.details)).toEqual([expect.objectContaining({ operation: "target.test_winrm", targetId: t.id, hostname: "127.0.0.3" })]);
  });

  test("an admin's approval lets test-winrm use a credential outside its policy only while the target is unchanged", async () => {
    const capture = await startCaptureServer("127.0.0.2");
    const cred = await credential([]);
    const t = (await post(admin, { hostname: "127.0.0.2", port: winrm.port, credentialId: cred.id })).body;
    expect((await app.request("POST", `/api/targets/${t.id}/test-winrm`, { token: operator })).body).toMatchObject({ ok: true, hostname: "WIN-POLICY" });
    // Same host, another port: no longer what the admin approved.
    await app.prisma.target.update({ where: { id: t.id }, data: { port: capture.port } });
    const refused = await app.request("POST", `/api/targets/${t.id}/test-winrm`, { token: operator });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("credential_policy");
    expect(capture.connections()).toBe(0);
  });
});

describe("connection tests reach no loopback or link-local address unless an admin allows it", () => {
  test("test-winrm refuses loopback, link-local and metadata addresses and names resolving to them: 403 destination_denied, audited, no connection", async () => {
    let connections = 0;
    const listener = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));
    const port = (listener.address() as net.AddressInfo).port;
    const cred = await credential(["127.0.0.0/8", "169.254.0.0/16", "0.0.0.0/8", "::1", "localhost", "*.localhost"]);
    for (const hostname of ["127.0.0.1", "localhost", "LocalHost", "127.0.0.9", "[::1]", "0.0.0.0", "169.254.169.254"]) {
      const t = (await post(operator, { hostname, port, credentialId: cred.id })).body;
      const res = await app.request("POST", `/api/targets/${t.id}/test-winrm`, { token: operator });
      expect(res.status, hostname).toBe(403);
      expect(res.body.error.code).toBe("destination_denied");
      expect(res.body.error.message).toMatch(/CONNECTION_TEST_DENY.*CONNECTION_TEST_ALLOW/);
      const audit = await app.prisma.auditLog.findFirstOrThrow({ where: { action: "target.test_winrm_denied", entityId: t.id } });
      expect(audit).toMatchObject({ actorId: app.users.operator.id, details: { hostname: expect.any(String), address: expect.any(String) } });
      expect((await app.prisma.target.findUniqueOrThrow({ where: { id: t.id } })).lastTestAt).toBeNull();
    }
    expect(connections).toBe(0);
  });

  test("the resolver given to the WinRM client refuses denied addresses at connect time, so a name re-pointed after the check reaches nothing", async () => {
    const rules = { deny: parseNetworkList("127.0.0.0/8,::1", "DENY"), allow: parseNetworkList("127.0.0.2", "ALLOW") };
    const lookup = guardedLookup(rules);
    const resolve = (host: string) =>
      new Promise<unknown>((done) => lookup(host, { all: true }, (error, addresses) => done(error ?? addresses)));
    expect(await resolve("localhost")).toMatchObject({ code: "EDESTINATIONDENIED", message: expect.stringMatching(/^localhost resolves to (127\.0\.0\.1|::1)/) });
    expect(await resolve("127.0.0.2")).toEqual([{ address: "127.0.0.2", family: 4 }]);
    const client = new WinRMClient({ host: "localhost", port: winrm.port, transport: "http", auth: "ntlm", username: "svc", password: PASSWORD, lookup });
    const before = winrm.stats.operations.identify ?? 0;
    const error = await client.identify().catch((e: unknown) => e);
    await client.close();
    expect(error).toBeInstanceOf(WinRMConnectionError);
    expect(error).toMatchObject({ code: "EDESTINATIONDENIED" });
    expect(winrm.stats.operations.identify ?? 0).toBe(before);
  });

  test("CONNECTION_TEST_DENY defaults to loopback and link-local, both lists can be set, and a bad entry fails at boot naming the variable", async () => {
    const { parseWebEnv } = await import("../app/env.server.ts");
    const base = { DATABASE_URL: "postgresql://x@localhost/x", OPSCONDUCTOR_MASTER_KEY: Buffer.alloc(32, 1).toString("base64") };
    const defaults = parseWebEnv(base);
    for (const address of ["127.0.0.1", "::1", "169.254.169.254", "fe80::1", "0.0.0.0", "fd00:ec2::254", "::ffff:127.0.0.1"]) expect(defaults.CONNECTION_TEST_DENY.has(address), address).toBe(true);
    for (const address of ["10.0.0.5", "192.168.1.10", "2001:db8::1"]) expect(defaults.CONNECTION_TEST_DENY.has(address), address).toBe(false);
    expect(defaults.CONNECTION_TEST_ALLOW.entries).toEqual([]);
    const custom = parseWebEnv({ ...base, CONNECTION_TEST_DENY: "127.0.0.0/8,10.0.0.0/24", CONNECTION_TEST_ALLOW: "127.0.0.5" });
    expect(custom.CONNECTION_TEST_DENY.has("10.0.0.7")).toBe(true);
    expect(custom.CONNECTION_TEST_ALLOW.has("127.0.0.5")).toBe(true);
    expect(() => parseWebEnv({ ...base, CONNECTION_TEST_DENY: "127.0.0.0/8,db.internal" })).toThrow(/CONNECTION_TEST_DENY: "db.internal" is not an IP address or CIDR range/);
    expect(() => parseWebEnv({ ...base, CONNECTION_TEST_ALLOW: "10.0.0.0/99" })).toThrow(/CONNECTION_TEST_ALLOW/);
  });
});

test("the OpenAPI document describes the usage policy of the credentials API", async () => {
  const doc = (await app.request("GET", "/api/openapi.json")).body;
  const text = JSON.stringify(doc.paths["/api/credentials"].post) + JSON.stringify(doc.paths["/api/credentials/{id}"].put);
  expect(text.match(/"usagePolicy"/g)?.length).toBeGreaterThanOrEqual(2);
  expect(JSON.stringify(doc.paths["/api/targets"].post)).toMatch(/usage policy/);
});
