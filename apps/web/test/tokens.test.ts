// API tokens and service accounts over HTTP: a token is shown once and works as Bearer like a
// session's access token, with the lower of its and its owner's role; revoked, expired, unknown
// tokens and disabled owners get 401; the token and password endpoints refuse tokens; every create
// and revoke is audited; the value is in no later answer, audit row or log line.
import { startApp } from "@opsconductor/testing/web";
import { beforeAll, describe, expect, test } from "vitest";

const app = await startApp();
const sessions = await app.signInAll();
let jobId = "";

beforeAll(async () => {
  const job = await app.create("/api/jobs", sessions.admin, { name: "Token job", steps: [{ type: "winrm.exec", target: "t-01", command: "hostname" }] });
  jobId = job.id;
});

const created: string[] = [];
async function newToken(session: string, body: Record<string, unknown>): Promise<{ id: string; token: string } & Record<string, unknown>> {
  const res = await app.request("POST", "/api/tokens", { token: session, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  created.push(res.body.token);
  return res.body;
}

describe("personal tokens", () => {
  test("created once with an oc_ value of 256 bits, then listed without it; it works as Bearer", async () => {
    const res = await app.request("POST", "/api/tokens", { token: sessions.operator, body: { name: "ci pipeline", expiresInDays: 30 } });
    expect(res.status).toBe(201);
    created.push(res.body.token);
    expect(res.body.token).toMatch(/^oc_[A-Za-z0-9_-]{43}$/);
    expect(res.body).toMatchObject({ name: "ci pipeline", role: "operator", owner: { username: "operator", kind: "human" }, lastUsedAt: null, revokedAt: null, status: "active", createdBy: "operator" });
    expect(new Date(res.body.expiresAt).getTime() - Date.now()).toBeGreaterThan(29.9 * 86_400_000);

    const me = await app.request("GET", "/api/users/me", { token: res.body.token });
    expect(me.status).toBe(200);
    expect(me.body.username).toBe("operator");

    const list = await app.request("GET", "/api/tokens", { token: sessions.operator });
    expect(list.status).toBe(200);
    const row = list.body.items.find((t: { id: string }) => t.id === res.body.id);
    expect(row).toMatchObject({ name: "ci pipeline", role: "operator", status: "active" });
    expect(row.lastUsedAt).not.toBeNull();
    expect(row).not.toHaveProperty("token");
    expect(JSON.stringify(list.body)).not.toContain(res.body.token);
    const one = await app.request("GET", `/api/tokens/${res.body.id}`, { token: res.body.token });
    expect(one.status).toBe(200);
    expect(JSON.stringify(one.body)).not.toContain(res.body.token);
  });

  test("last use is written at most once a minute, not on every request", async () => {
    const { id, token } = await newToken(sessions.viewer, { name: "poller" });
    for (let i = 0; i < 5; i++) expect((await app.request("GET", "/api/jobs", { token })).status).toBe(200);
    const first = await app.prisma.apiToken.findUniqueOrThrow({ where: { id } });
    expect(first.lastUsedAt).not.toBeNull();
    await app.request("GET", "/api/jobs", { token });
    const second = await app.prisma.apiToken.findUniqueOrThrow({ where: { id } });
    expect(second.lastUsedAt!.getTime()).toBe(first.lastUsedAt!.getTime());
    // A minute on: the next use moves it.
    await app.prisma.apiToken.update({ where: { id }, data: { lastUsedAt: new Date(Date.now() - 61_000) } });
    await app.request("GET", "/api/jobs", { token });
    const third = await app.prisma.apiToken.findUniqueOrThrow({ where: { id } });
    expect(Date.now() - third.lastUsedAt!.getTime()).toBeLessThan(30_000);
  });

  test("a token's role is at most its owner's; a viewer token cannot run a job (403), an operator token can", async () => {
    const tooHigh = await app.request("POST", "/api/tokens", { token: sessions.operator, body: { name: "greedy", role: "admin" } });
    expect(tooHigh.status).toBe(400);
    expect(tooHigh.body.error.details).toEqual([expect.objectContaining({ path: "body.role" })]);

    const viewerToken = await newToken(sessions.operator, { name: "read only", role: "viewer" });
    expect(viewerToken.role).toBe("viewer");
    const refused = await app.request("POST", `/api/jobs/${jobId}/run`, { token: viewerToken.token, body: {} });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("forbidden");
    expect((await app.request("GET", "/api/jobs", { token: viewerToken.token })).status).toBe(200);

    const operatorToken = await newToken(sessions.operator, { name: "runner" });
    const run = await app.request("POST", `/api/jobs/${jobId}/run`, { token: operatorToken.token, body: {} });
    expect(run.status).toBe(202);
    const row = await app.prisma.jobRun.findUniqueOrThrow({ where: { id: run.body.runId ?? run.body.id } });
    expect(row.requestedById).toBe(app.users.operator.id);
  });

  test("bad input names the field", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{}, "body.name"],
      [{ name: "x", expiresAt: "2020-01-01T00:00:00Z" }, "body.expiresAt"],
      [{ name: "x", expiresInDays: 0 }, "body.expiresInDays"],
      [{ name: "x", expiresInDays: 5, expiresAt: "2099-01-01T00:00:00Z" }, "body.expiresInDays"],
      [{ name: "x", role: "root" }, "body.role"],
    ];
    for (const [body, path] of cases) {
      const res = await app.request("POST", "/api/tokens", { token: sessions.viewer, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
    expect(await app.prisma.apiToken.count({ where: { name: "x" } })).toBe(0);
  });
});

describe("what a token may not do", () => {
  test("the token and password endpoints refuse it with 403 session_required; reading its own tokens works", async () => {
    const { id, token } = await newToken(sessions.admin, { name: "admin automation" });
    const attempts: [string, string, unknown][] = [
      ["POST", "/api/tokens", { name: "minted by a token" }],
      ["DELETE", `/api/tokens/${id}`, undefined],
      ["POST", "/api/service-accounts", { username: "sa-by-token", role: "viewer" }],
      ["POST", "/api/users/me/password", { currentPassword: "admin-password-1", newPassword: "taken-over-password-1" }],
      ["POST", "/api/revoke-all", {}],
      ["POST", "/api/users", { username: "made-by-token", role: "admin", password: "a-password-of-12" }],
      ["PATCH", `/api/users/${app.users.viewer.id}`, { password: "new-viewer-password-1" }],
    ];
    for (const [method, path, body] of attempts) {
      const res = await app.request(method, path, { token, body });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error.code, `${method} ${path}`).toBe("session_required");
    }
    expect(await app.prisma.apiToken.count({ where: { name: "minted by a token" } })).toBe(0);
    expect(await app.prisma.user.count({ where: { username: { in: ["sa-by-token", "made-by-token"] } } })).toBe(0);
    expect((await app.request("GET", "/api/tokens", { token })).status).toBe(200);
    // The same admin's token may still manage users where no password is involved.
    const renamed = await app.request("PATCH", `/api/users/${app.users.viewer.id}`, { token, body: { displayName: "The viewer" } });
    expect(renamed.status).toBe(200);
    // The password still works: the attempt above changed nothing.
    expect((await app.request("POST", "/api/login", { body: { username: "admin", password: "admin-password-1" } })).status).toBe(200);
  });

  test("revoked, expired, unknown tokens and a disabled owner get 401", async () => {
    const revoked = await newToken(sessions.viewer, { name: "to revoke" });
    const del = await app.request("DELETE", `/api/tokens/${revoked.id}`, { token: sessions.viewer });
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ status: "revoked" });
    const afterRevoke = await app.request("GET", "/api/jobs", { token: revoked.token });
    expect(afterRevoke.status).toBe(401);
    expect(afterRevoke.body.error.message).toContain("revoked");

    const expiring = await newToken(sessions.viewer, { name: "short lived", expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect((await app.request("GET", "/api/jobs", { token: expiring.token })).status).toBe(200);
    // The hour passes.
    await app.prisma.apiToken.update({ where: { id: expiring.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const expired = await app.request("GET", "/api/jobs", { token: expiring.token });
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toContain("expired");
    const listed = await app.request("GET", "/api/tokens", { token: sessions.viewer });
    expect(listed.body.items.find((t: { id: string }) => t.id === expiring.id).status).toBe("expired");
    const active = await app.request("GET", "/api/tokens?active=true", { token: sessions.viewer });
    expect(active.body.items.map((t: { id: string }) => t.id)).not.toContain(expiring.id);

    const unknown = await app.request("GET", "/api/jobs", { token: `oc_${"A".repeat(43)}` });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.code).toBe("invalid_token");
  });

  test("another user's token is not found to a non-admin, and only admins list everyone's", async () => {
    const adminToken = await newToken(sessions.admin, { name: "admin's own" });
    const res = await app.request("DELETE", `/api/tokens/${adminToken.id}`, { token: sessions.operator });
    expect(res.status).toBe(404);
    expect((await app.request("GET", `/api/tokens/${adminToken.id}`, { token: sessions.viewer })).status).toBe(404);
    expect((await app.request("GET", "/api/tokens?scope=all", { token: sessions.operator })).status).toBe(403);
    expect((await app.request("GET", `/api/tokens?userId=${app.users.admin.id}`, { token: sessions.viewer })).status).toBe(403);
    const all = await app.request("GET", "/api/tokens?scope=all&limit=200", { token: sessions.admin });
    expect(all.status).toBe(200);
    const owners = new Set(all.body.items.map((t: { owner: { username: string } }) => t.owner.username));
    expect(owners).toEqual(new Set(["admin", "operator", "viewer"]));
    expect((await app.request("GET", "/api/tokens", { token: adminToken.token })).status).toBe(200);
  });
});

describe("service accounts", () => {
  test("an admin creates one with a role and tokens for it; the account cannot sign in; lowering its role caps its tokens", async () => {
    expect((await app.request("POST", "/api/service-accounts", { token: sessions.operator, body: { username: "deployer", role: "operator" } })).status).toBe(403);
    const account = await app.create("/api/service-accounts", sessions.admin, { username: "deployer", role: "operator", displayName: "Deploy pipeline" });
    expect(account).toMatchObject({ username: "deployer", role: "operator", activeTokens: 0, disabled: false });
    const duplicate = await app.request("POST", "/api/service-accounts", { token: sessions.admin, body: { username: "Deployer", role: "viewer" } });
    expect(duplicate.status).toBe(409);

    expect((await app.request("POST", "/api/tokens", { token: sessions.operator, body: { name: "not mine", userId: account.id } })).status).toBe(403);
    const forPerson = await app.request("POST", "/api/tokens", { token: sessions.admin, body: { name: "for a person", userId: app.users.viewer.id } });
    expect(forPerson.status).toBe(400);
    expect(forPerson.body.error.details[0].path).toBe("body.userId");
    expect((await app.request("POST", "/api/tokens", { token: sessions.admin, body: { name: "too high", userId: account.id, role: "admin" } })).status).toBe(400);

    const saToken = await newToken(sessions.admin, { name: "deploy", userId: account.id });
    expect(saToken).toMatchObject({ role: "operator", owner: { username: "deployer", kind: "service" }, createdBy: "admin" });
    const run = await app.request("POST", `/api/jobs/${jobId}/run`, { token: saToken.token, body: {} });
    expect(run.status).toBe(202);

    const listed = await app.request("GET", "/api/service-accounts", { token: sessions.admin });
    expect(listed.body.items).toEqual([expect.objectContaining({ username: "deployer", activeTokens: 1 })]);
    const theirs = await app.request("GET", `/api/tokens?userId=${account.id}`, { token: sessions.admin });
    expect(theirs.body.items.map((t: { name: string }) => t.name)).toEqual(["deploy"]);

    const login = await app.request("POST", "/api/login", { body: { username: "deployer", password: "anything-at-all-1" } });
    expect(login.status).toBe(401);
    // Not even with a password an admin set on it through the users API.
    expect((await app.request("PATCH", `/api/users/${account.id}`, { token: sessions.admin, body: { password: "a-service-password-1" } })).status).toBe(200);
    expect((await app.request("POST", "/api/login", { body: { username: "deployer", password: "a-service-password-1" } })).status).toBe(401);

    expect((await app.request("PATCH", `/api/users/${account.id}`, { token: sessions.admin, body: { role: "viewer" } })).status).toBe(200);
    const capped = await app.request("POST", `/api/jobs/${jobId}/run`, { token: saToken.token, body: {} });
    expect(capped.status).toBe(403);

    expect((await app.request("PATCH", `/api/users/${account.id}`, { token: sessions.admin, body: { disabled: true } })).status).toBe(200);
    expect((await app.request("GET", "/api/jobs", { token: saToken.token })).status).toBe(401);

    expect((await app.request("DELETE", `/api/service-accounts/${app.users.viewer.id}`, { token: sessions.admin })).status).toBe(409);
    expect((await app.request("DELETE", `/api/service-accounts/${account.id}`, { token: sessions.admin })).status).toBe(204);
    expect(await app.prisma.apiToken.count({ where: { userId: account.id } })).toBe(0);
  });
});

test("every create and revoke is audited; no token value is in any answer after creation, audit row or log line", async () => {
  const revokeMe = await newToken(sessions.operator, { name: "audit check" });
  expect((await app.request("DELETE", `/api/tokens/${revokeMe.id}`, { token: sessions.operator })).status).toBe(200);

  const auditText = JSON.stringify(await app.prisma.$queryRaw`SELECT * FROM audit_log`, (_k, v) => (typeof v === "bigint" ? String(v) : v));
  const listText = JSON.stringify((await app.request("GET", "/api/tokens?scope=all&limit=200", { token: sessions.admin })).body);
  const auditApi = JSON.stringify((await app.request("GET", "/api/audit?limit=200", { token: sessions.admin })).body);
  for (const value of created) {
    expect(auditText).not.toContain(value);
    expect(auditApi).not.toContain(value);
    expect(listText).not.toContain(value);
    expect(app.output()).not.toContain(value);
    // Nor the part after the prefix, in case something strips it.
    expect(auditText).not.toContain(value.slice(3));
    expect(app.output()).not.toContain(value.slice(3));
  }
  const rows = await app.prisma.auditLog.findMany({ where: { action: { in: ["api_token.create", "api_token.revoke"] } } });
  expect(rows.filter((r) => r.action === "api_token.create").length).toBe(created.length);
  expect(rows.find((r) => r.action === "api_token.revoke" && r.entityId === revokeMe.id)).toMatchObject({ actorName: "operator" });
  expect(rows.find((r) => r.action === "api_token.create" && r.entityId === revokeMe.id)?.summary).toContain("audit check");
  expect(await app.prisma.auditLog.count({ where: { action: "service_account.create" } })).toBe(1);
  expect(created.length).toBeGreaterThan(8);
  // Stored only as a hash.
  const stored = await app.prisma.apiToken.findMany({ select: { tokenHash: true } });
  for (const { tokenHash } of stored) expect(tokenHash).toMatch(/^[0-9a-f]{64}$/);
});
