import { randomBytes } from "node:crypto";
import { createKeyring, decryptSecret, SecretDecryptionError, type SealedSecret } from "@opsconductor/core";
import { parseMasterKeys } from "@opsconductor/db";
import { startApp } from "@opsconductor/testing/web";
import { startWinRMTestServer } from "@opsconductor/winrm/testing";
import { describe, expect, test } from "vitest";

// The planted-secret test connects to the WinRM test server on loopback, which tests refuse unless allowed.
const app = await startApp({ CONNECTION_TEST_ALLOW: "127.0.0.1" });
const { admin, operator, viewer } = await app.signInAll();
// The harness passes one key without an id; the configuration derives its id from the key.
const masterKeys = parseMasterKeys(app.masterKey);
const keyring = createKeyring(masterKeys);

const paths = (res: { body: { error: { details: { path: string }[] } } }) => res.body.error.details.map((d) => d.path);

async function sealedRow(id: string): Promise<SealedSecret> {
  const row = await app.prisma.credential.findUniqueOrThrow({ where: { id } });
  const b64 = (v: Uint8Array) => Buffer.from(v).toString("base64");
  return { v: 1, alg: "AES-256-GCM", keyId: row.keyId, wrappedKey: b64(row.wrappedKey), iv: b64(row.iv), ciphertext: b64(row.ciphertext), authTag: b64(row.authTag) };
}

const open = async (id: string) => JSON.parse(decryptSecret(keyring, await sealedRow(id), { aad: id }));

const create = (body: Record<string, unknown>) => app.create("/api/credentials", admin, body);

describe("/api/credentials", () => {
  test("stores each type's secret sealed under the master key and bound to the row id; answers metadata only", async () => {
    const winrm = await app.request("POST", "/api/credentials", {
      token: admin,
      body: { name: "corp-admin", type: "winrm", username: "svc-ops", domain: "CORP", description: "Domain admin", secret: { password: "Winrm-Pass-1" } },
    });
    expect(winrm.status).toBe(201);
    expect(winrm.body).toEqual({
      id: expect.any(String),
      name: "corp-admin",
      type: "winrm",
      username: "svc-ops",
      domain: "CORP",
      description: "Domain admin",
      usagePolicy: [],
      keyId: masterKeys.primary,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      rotatedAt: null,
      usedByTargets: 0,
    });
    const ssh = await create({ name: "deploy-key", type: "ssh", username: "deploy", secret: { privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n", passphrase: "pp-1" } });
    const api = await create({ name: "monitoring", type: "api_key", secret: { apiKey: "ak-123" } });

    expect(await open(winrm.body.id)).toEqual({ password: "Winrm-Pass-1" });
    expect(await open(ssh.id)).toEqual({ privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n", passphrase: "pp-1" });
    expect(await open(api.id)).toEqual({ apiKey: "ak-123" });
    // The row id is authenticated data: one row's envelope does not open as another's.
    await expect(sealedRow(winrm.body.id).then((s) => decryptSecret(keyring, s, { aad: api.id }))).rejects.toThrow(SecretDecryptionError);

    const audit = await app.prisma.auditLog.findFirstOrThrow({ where: { action: "credential.create", entityId: winrm.body.id } });
    expect(audit).toMatchObject({ actorId: app.users.admin.id, summary: "created winrm credential corp-admin", details: { name: "corp-admin", type: "winrm", username: "svc-ops" } });
  });

  test("a secret must fit the type: 400 naming the field; a bad type or name is named too; duplicates are 409", async () => {
    const cases: [Record<string, unknown>, string[]][] = [
      [{ name: "c1", type: "winrm", secret: {} }, ["body.secret.password"]],
      [{ name: "c1", type: "winrm" }, ["body.secret"]],
      [{ name: "c1", type: "winrm", secret: { password: "" } }, ["body.secret.password"]],
      [{ name: "c1", type: "api_key", secret: { password: "x" } }, ["body.secret.apiKey", "body.secret"]],
      [{ name: "c1", type: "ssh", secret: { password: "x", privateKey: "y" } }, ["body.secret.password"]],
      [{ name: "c1", type: "ssh", secret: { password: "x", passphrase: "y" } }, ["body.secret.passphrase"]],
      [{ name: "c1", type: "kerberos", secret: { password: "x" } }, ["body.type"]],
      [{ name: " ", type: "winrm", secret: { password: "x" } }, ["body.name"]],
    ];
    for (const [body, expected] of cases) {
      const res = await app.request("POST", "/api/credentials", { token: admin, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(paths(res).sort()).toEqual(expected.sort());
    }
    expect(await app.prisma.credential.count({ where: { name: "c1" } })).toBe(0);
    await create({ name: "dup-cred", type: "winrm", secret: { password: "x" } });
    const dup = await app.request("POST", "/api/credentials", { token: admin, body: { name: "DUP-cred", type: "api_key", secret: { apiKey: "y" } } });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({ code: "conflict", details: [{ path: "body.name" }] });
  });

  test("operators see only id, name and type in the list and nothing else; viewers see nothing", async () => {
    const made = await create({ name: "ref-only", type: "winrm", username: "hidden-user", description: "hidden description", secret: { password: "x" } });
    const list = await app.request("GET", "/api/credentials?limit=200", { token: operator });
    expect(list.status).toBe(200);
    expect(list.body.items).toContainEqual({ id: made.id, name: "ref-only", type: "winrm" });
    for (const item of list.body.items) expect(Object.keys(item).sort()).toEqual(["id", "name", "type"]);
    expect(list.text).not.toContain("hidden");
    expect((await app.request("GET", `/api/credentials/${made.id}`, { token: operator })).status).toBe(403);
    expect((await app.request("POST", "/api/credentials", { token: operator, body: { name: "op", type: "winrm", secret: { password: "x" } } })).status).toBe(403);
    expect((await app.request("PUT", `/api/credentials/${made.id}`, { token: operator, body: { name: "renamed" } })).status).toBe(403);
    expect((await app.request("DELETE", `/api/credentials/${made.id}`, { token: operator })).status).toBe(403);
    for (const [method, path] of [["GET", "/api/credentials"], ["GET", `/api/credentials/${made.id}`]] as const) {
      expect((await app.request(method, path, { token: viewer })).status).toBe(403);
    }
    const adminView = await app.request("GET", `/api/credentials/${made.id}`, { token: admin });
    expect(adminView.body).toMatchObject({ username: "hidden-user", description: "hidden description", usedByTargets: 0 });
  });

  test("an operator's q searches credential names only: hidden user names and descriptions cannot be probed by substring", async () => {
    const made = await create({ name: "probe-target", type: "winrm", username: "zq-secret-user", description: "zq-hidden-note", secret: { password: "x" } });
    for (const q of ["zq-secret", "zq-hidden", "SECRET-USER"]) {
      expect((await app.request("GET", `/api/credentials?q=${q}`, { token: operator })).body.items, q).toEqual([]);
      expect((await app.request("GET", `/api/credentials?q=${q}`, { token: admin })).body.items.map((c: { id: string }) => c.id), q).toEqual([made.id]);
    }
    expect((await app.request("GET", "/api/credentials?q=PROBE-tar", { token: operator })).body.items).toEqual([{ id: made.id, name: "probe-target", type: "winrm" }]);
  });

  test("an admin sets the usage policy on create and update (normalized, audited); operators never see it; bad patterns are a 400 naming the entry", async () => {
    const made = await create({ name: "policy-cred", type: "winrm", username: "svc", usagePolicy: ["Web-01.Corp.Example.", "*.lab.example", "10.1.0.0/16", "fd00::/8"], secret: { password: "x" } });
    expect(made.usagePolicy).toEqual(["web-01.corp.example", "*.lab.example", "10.1.0.0/16", "fd00::/8"]);
    expect((await app.request("GET", `/api/credentials/${made.id}`, { token: admin })).body.usagePolicy).toEqual(made.usagePolicy);
    const list = await app.request("GET", "/api/credentials?q=policy-cred", { token: operator });
    expect(list.body.items).toEqual([{ id: made.id, name: "policy-cred", type: "winrm" }]);
    expect(list.text).not.toContain("lab.example");

    const updated = await app.request("PUT", `/api/credentials/${made.id}`, { token: admin, body: { usagePolicy: ["*.corp.example"] } });
    expect(updated.status).toBe(200);
    expect(updated.body.usagePolicy).toEqual(["*.corp.example"]);
    const audit = await app.prisma.auditLog.findFirstOrThrow({ where: { action: "credential.update", entityId: made.id } });
    expect(audit.details).toMatchObject({ fields: ["usagePolicy"], changes: { usagePolicy: { from: made.usagePolicy, to: ["*.corp.example"] } } });
    expect((await app.prisma.auditLog.findFirstOrThrow({ where: { action: "credential.create", entityId: made.id } })).details).toMatchObject({ usagePolicy: made.usagePolicy });

    const bad = await app.request("PUT", `/api/credentials/${made.id}`, { token: admin, body: { usagePolicy: ["ok.example", "*"] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([{ path: "body.usagePolicy.1", message: expect.stringContaining("* only as a whole first label") }]);
    expect(paths(await app.request("POST", "/api/credentials", { token: admin, body: { name: "p2", type: "winrm", usagePolicy: ["10.0.0.0/99"], secret: { password: "x" } } }))).toEqual(["body.usagePolicy.0"]);
    expect(paths(await app.request("POST", "/api/credentials", { token: admin, body: { name: "p3", type: "winrm", usagePolicy: "*.corp.example", secret: { password: "x" } } }))).toEqual(["body.usagePolicy"]);
    expect((await app.request("PUT", `/api/credentials/${made.id}`, { token: operator, body: { usagePolicy: ["*"] } })).status).toBe(403);
    expect((await app.prisma.credential.findUniqueOrThrow({ where: { id: made.id } })).usagePolicy).toEqual(["*.corp.example"]);
  });

  test("lists newest first with type/q filters and keyset pagination", async () => {
    await create({ name: "page-1", type: "api_key", description: "paging", secret: { apiKey: "a" } });
    await create({ name: "page-2", type: "api_key", description: "paging", secret: { apiKey: "b" } });
    await create({ name: "page-3", type: "winrm", description: "paging", secret: { password: "c" } });
    const first = await app.request("GET", "/api/credentials?q=PAGING&limit=2", { token: admin });
    expect(first.body.items.map((c: { name: string }) => c.name)).toEqual(["page-3", "page-2"]);
    const second = await app.request("GET", `/api/credentials?q=paging&limit=2&cursor=${first.body.nextCursor}`, { token: admin });
    expect(second.body).toMatchObject({ items: [{ name: "page-1" }], nextCursor: null });
    const keys = await app.request("GET", "/api/credentials?q=paging&type=api_key", { token: admin });
    expect(keys.body.items.map((c: { name: string }) => c.name)).toEqual(["page-2", "page-1"]);
    expect(paths(await app.request("GET", "/api/credentials?type=telnet", { token: admin }))).toEqual(["query.type"]);
  });

  test("?sort= orders by name or by last change, either way, across pages; an operator may sort the references too; a bad order is a 400", async () => {
    for (const name of ["order-b", "ORDER-a", "order-c"]) await create({ name, type: "api_key", secret: { apiKey: "k" } });
    // Changing order-b makes it the most recently updated.
    const b = (await app.request("GET", "/api/credentials?q=order-b", { token: admin })).body.items[0];
    expect((await app.request("PUT", `/api/credentials/${b.id}`, { token: admin, body: { description: "touched" } })).status).toBe(200);
    const walk = async (sort: string, token = admin) => {
      const names: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: { items: { name: string }[]; nextCursor: string | null } } = await app.request("GET", `/api/credentials?q=order-&limit=1&sort=${sort}${cursor ? `&cursor=${cursor}` : ""}`, { token });
        expect(page.status).toBe(200);
        names.push(...page.body.items.map((i) => i.name));
        cursor = page.body.nextCursor;
      } while (cursor);
      return names;
    };
    expect(await walk("name")).toEqual(["ORDER-a", "order-b", "order-c"]);
    expect(await walk("-name", operator)).toEqual(["order-c", "order-b", "ORDER-a"]);
    expect((await walk("-updatedAt"))[0]).toBe("order-b");
    expect((await walk("updatedAt")).at(-1)).toBe("order-b");
    expect(paths(await app.request("GET", "/api/credentials?sort=usedByTargets", { token: admin }))).toEqual(["query.sort"]);
  });

  test("PUT updates metadata, and with a secret rotates it (rotatedAt); each is audited without the secret", async () => {
    const made = await create({ name: "rotating", type: "winrm", username: "old-user", secret: { password: "first-pass" } });
    const before = await sealedRow(made.id);

    const meta = await app.request("PUT", `/api/credentials/${made.id}`, { token: admin, body: { username: "new-user", description: "now described" } });
    expect(meta.status).toBe(200);
    expect(meta.body).toMatchObject({ username: "new-user", description: "now described", rotatedAt: null });
    expect(await sealedRow(made.id)).toEqual(before);

    const rotated = await app.request("PUT", `/api/credentials/${made.id}`, { token: admin, body: { secret: { password: "second-pass" } } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.rotatedAt).toEqual(expect.any(String));
    expect((await sealedRow(made.id)).ciphertext).not.toBe(before.ciphertext);
    expect(await open(made.id)).toEqual({ password: "second-pass" });

    const wrongShape = await app.request("PUT", `/api/credentials/${made.id}`, { token: admin, body: { secret: { apiKey: "x" } } });
    expect(wrongShape.status).toBe(400);
    expect(paths(wrongShape).sort()).toEqual(["body.secret", "body.secret.password"]);
    const retype = await app.request("PUT", `/api/credentials/${made.id}`, { token: admin, body: { type: "ssh" } });
    expect(paths(retype)).toEqual(["body.type"]);
    expect(await open(made.id)).toEqual({ password: "second-pass" });

    const audits = await app.prisma.auditLog.findMany({ where: { entityId: made.id }, orderBy: { id: "asc" } });
    expect(audits.map((a) => a.action)).toEqual(["credential.create", "credential.update", "credential.rotate"]);
    expect(audits[1]!.details).toMatchObject({ fields: ["username", "description"], changes: { username: { from: "old-user", to: "new-user" } } });
    expect(JSON.stringify(audits.map((a) => [a.summary, a.details]))).not.toMatch(/first-pass|second-pass/);
    expect((await app.request("PUT", `/api/credentials/${crypto.randomUUID()}`, { token: admin, body: { name: "x" } })).status).toBe(404);
  });

  test("DELETE is refused with 409 in_use naming the targets while any target references the credential", async () => {
    const made = await create({ name: "in-use", type: "winrm", usagePolicy: ["h"], secret: { password: "x" } });
    const t = await app.request("POST", "/api/targets", { token: operator, body: { name: "user-of-cred", hostname: "h", credentialId: made.id } });
    expect(t.status).toBe(201);
    expect((await app.request("GET", `/api/credentials/${made.id}`, { token: admin })).body.usedByTargets).toBe(1);
    const refused = await app.request("DELETE", `/api/credentials/${made.id}`, { token: admin });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("in_use");
    expect(refused.body.error.message).toContain("user-of-cred");
    expect(await app.prisma.credential.count({ where: { id: made.id } })).toBe(1);

    await app.request("PUT", `/api/targets/${t.body.id}`, { token: operator, body: { credentialId: null } });
    expect((await app.request("DELETE", `/api/credentials/${made.id}`, { token: admin })).status).toBe(204);
    expect(await app.prisma.credential.count({ where: { id: made.id } })).toBe(0);
    expect(await app.prisma.auditLog.findFirst({ where: { action: "credential.delete", entityId: made.id } })).toMatchObject({ summary: "deleted winrm credential in-use" });
    expect((await app.request("DELETE", `/api/credentials/${made.id}`, { token: admin })).status).toBe(404);
  });
});

describe("a planted secret", () => {
  test("appears in no response of the credential and target endpoints, no server log line and no audit row", async () => {
    const planted = `PLANTED-SECRET-${randomBytes(12).toString("hex")}`;
    const bodies: string[] = [];
    const call = async (method: string, path: string, token: string, body?: unknown) => {
      const res = await app.request(method, path, { token, body });
      bodies.push(`${method} ${path} ${res.status} ${res.text}`);
      return res;
    };
    const cred = (await call("POST", "/api/credentials", admin, { name: "planted", type: "winrm", username: "u", usagePolicy: ["127.0.0.1"], secret: { password: planted } })).body;
    const key = (await call("POST", "/api/credentials", admin, { name: "planted-key", type: "api_key", secret: { apiKey: planted } })).body;
    await call("PUT", `/api/credentials/${cred.id}`, admin, { description: "rotated", secret: { password: `${planted}-2` } });
    // Rejected input must not be echoed either.
    expect((await call("PUT", `/api/credentials/${cred.id}`, admin, { secret: { password: planted, extra: planted } })).status).toBe(400);
    expect((await call("POST", "/api/credentials", admin, { name: "planted-bad", type: "winrm", secret: { password: planted, apiKey: planted } })).status).toBe(400);
    expect((await call("POST", "/api/credentials", admin, { name: "planted", type: "winrm", secret: { password: planted } })).status).toBe(409);
    const winrm = await startWinRMTestServer({ users: { u: `${planted}-2` }, auth: "ntlm", handler: (ctx) => void ctx.stdout.write("PLANTED-HOST\r\n") });
    const target = (await call("POST", "/api/targets", operator, { name: "planted-target", hostname: "127.0.0.1", port: winrm.port, credentialId: cred.id })).body;
    try {
      // The secret travels to the WinRM host (the test server), and only there.
      expect((await call("POST", `/api/targets/${target.id}/test-winrm`, operator)).body).toMatchObject({ ok: true, hostname: "PLANTED-HOST" });
      await call("PUT", `/api/credentials/${cred.id}`, admin, { secret: { password: `${planted}-3` } });
      expect((await call("POST", `/api/targets/${target.id}/test-winrm`, operator)).body).toMatchObject({ ok: false });
      await call("PUT", `/api/credentials/${cred.id}`, admin, { secret: { password: `${planted}-2` } });
    } finally {
      await winrm.close();
    }
    for (const token of [admin, operator]) {
      await call("GET", "/api/credentials", token);
      await call("GET", `/api/credentials/${cred.id}`, token);
      await call("GET", "/api/targets", token);
      await call("GET", `/api/targets/${target.id}`, token);
    }
    await call("PUT", `/api/targets/${target.id}`, operator, { description: "edited" });
    await call("DELETE", `/api/credentials/${key.id}`, admin);

    expect(await open(cred.id)).toEqual({ password: `${planted}-2` });
    expect(bodies.join("\n")).toContain("PLANTED-HOST");
    expect(bodies.join("\n")).not.toContain("PLANTED-SECRET");
    expect(app.output()).not.toContain("PLANTED-SECRET");
    const [row] = await app.prisma.$queryRawUnsafe<{ text: string }[]>("SELECT coalesce(string_agg(a::text, E'\\n'), '') AS text FROM audit_log a");
    const text = row!.text;
    expect(text).toContain("target.test_winrm");
    expect(text).toContain("planted");
    expect(text).not.toContain("PLANTED-SECRET");
  });
});
