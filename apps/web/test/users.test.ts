import { createLocalUser as createUser } from "../app/services/auth/local-users.server.ts";
import { PASSWORDS, startApp } from "@opsconductor/testing/web";
import { describe, expect, test } from "vitest";

// Self-registration is off by default; the second server shows that.
const [app, closed] = await Promise.all([startApp({ OPSCONDUCTOR_SELF_REGISTRATION: "true" }), startApp()]);
const admin = (await app.login("admin")).accessToken;

const stillValid = async (token: string) => (await app.request("GET", "/api/verify", { token })).status === 200;

describe("/api/users (admin)", () => {
  test("creates a user with a hashed password, never answering the hash, and audits it", async () => {
    const res = await app.request("POST", "/api/users", {
      token: admin,
      body: { username: "alice", password: "alice-password-1", role: "operator", email: "alice@example.com", displayName: "Alice" },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ username: "alice", role: "operator", email: "alice@example.com", displayName: "Alice", disabled: false, hasPassword: true });
    expect(res.text).not.toMatch(/passwordHash|argon2/);
    const row = await app.prisma.user.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    const signIn = await app.request("POST", "/api/login", { body: { username: "alice", password: "alice-password-1" } });
    expect(signIn.status).toBe(200);
    const audit = await app.prisma.auditLog.findFirstOrThrow({ where: { action: "user.create", entityId: res.body.id } });
    expect(audit).toMatchObject({ actorId: app.users.admin.id, summary: "created operator alice", details: { username: "alice", role: "operator", localSignIn: true } });
    expect(JSON.stringify(audit.details)).not.toContain("alice-password-1");
  });

  test("bad input is a 400 naming the field; a taken username (any case) is a 409 naming body.username", async () => {
    const short = await app.request("POST", "/api/users", { token: admin, body: { username: "bob", password: "short", role: "viewer" } });
    expect(short.status).toBe(400);
    expect(short.body.error.details).toEqual([expect.objectContaining({ path: "body.password", message: expect.stringContaining("at least 12") })]);
    const badRole = await app.request("POST", "/api/users", { token: admin, body: { username: "bob", role: "root" } });
    expect(badRole.status).toBe(400);
    expect(badRole.body.error.details.map((d: { path: string }) => d.path)).toEqual(["body.role"]);
    const badEmail = await app.request("POST", "/api/users", { token: admin, body: { username: "bob", role: "viewer", email: "nope" } });
    expect(badEmail.body.error.details.map((d: { path: string }) => d.path)).toEqual(["body.email"]);
    const taken = await app.request("POST", "/api/users", { token: admin, body: { username: "OPERATOR", role: "viewer" } });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatchObject({ code: "conflict", details: [{ path: "body.username" }] });
    expect((await app.request("GET", "/api/users/not-a-uuid", { token: admin })).body.error.details[0].path).toBe("params.id");
    expect((await app.request("GET", `/api/users/${crypto.randomUUID()}`, { token: admin })).status).toBe(404);
  });

  test("lists newest first with keyset pagination and q/role/disabled filters, without password hashes", async () => {
    for (const name of ["list-a", "list-b", "list-c"]) {
      expect((await app.request("POST", "/api/users", { token: admin, body: { username: name, role: "viewer", displayName: `Lister ${name}` } })).status).toBe(201);
    }
    await app.request("POST", "/api/users", { token: admin, body: { username: "list-off", role: "viewer", disabled: true } });
    const first = await app.request("GET", "/api/users?q=lister&limit=2", { token: admin });
    expect(first.status).toBe(200);
    expect(first.body.items.map((u: { username: string }) => u.username)).toEqual(["list-c", "list-b"]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await app.request("GET", `/api/users?q=lister&limit=2&cursor=${first.body.nextCursor}`, { token: admin });
    expect(second.body).toEqual({ items: [expect.objectContaining({ username: "list-a" })], nextCursor: null });
    const disabled = await app.request("GET", "/api/users?disabled=true", { token: admin });
    expect(disabled.body.items.map((u: { username: string }) => u.username)).toEqual(["list-off"]);
    const admins = await app.request("GET", "/api/users?role=admin", { token: admin });
    expect(admins.body.items.map((u: { username: string }) => u.username)).toEqual(["admin"]);
    expect(JSON.stringify([first.body, second.body, admins.body])).not.toMatch(/passwordHash|argon2/);
    const bad = await app.request("GET", "/api/users?cursor=garbage&role=root", { token: admin });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(["query.role"]);
    expect((await app.request("GET", "/api/users?cursor=garbage", { token: admin })).body.error.details[0].path).toBe("query.cursor");
  });

  test("sorts by username (ignoring case) or creation time, either way, across pages; a cursor of another order is a 400", async () => {
    for (const name of ["Sort-b", "sort-D", "sort-a", "SORT-c", "sort-e"]) {
      expect((await app.request("POST", "/api/users", { token: admin, body: { username: name, role: "viewer" } })).status).toBe(201);
    }
    const walk = async (sort: string) => {
      const names: string[] = [];
      let cursor: string | null = null;
      do {
        const res: { status: number; text: string; body: { items: { username: string }[]; nextCursor: string | null } } = await app.request("GET", `/api/users?q=sort-&limit=2&sort=${sort}${cursor ? `&cursor=${cursor}` : ""}`, { token: admin });
        expect(res.status, res.text).toBe(200);
        names.push(...res.body.items.map((u: { username: string }) => u.username));
        cursor = res.body.nextCursor;
      } while (cursor);
      return names;
    };
    expect(await walk("username")).toEqual(["sort-a", "Sort-b", "SORT-c", "sort-D", "sort-e"]);
    expect(await walk("-username")).toEqual(["sort-e", "sort-D", "SORT-c", "Sort-b", "sort-a"]);
    expect(await walk("createdAt")).toEqual(["Sort-b", "sort-D", "sort-a", "SORT-c", "sort-e"]);
    expect(await walk("-createdAt")).toEqual(["sort-e", "SORT-c", "sort-a", "sort-D", "Sort-b"]);
    const byName = await app.request("GET", "/api/users?q=sort-&limit=2&sort=username", { token: admin });
    const mixed = await app.request("GET", `/api/users?q=sort-&limit=2&sort=-createdAt&cursor=${byName.body.nextCursor}`, { token: admin });
    expect(mixed.status).toBe(400);
    expect(mixed.body.error.details[0].path).toBe("query.cursor");
    const bad = await app.request("GET", "/api/users?sort=password", { token: admin });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe("query.sort");
  });

  test("operators and viewers may not manage users", async () => {
    for (const role of ["operator", "viewer"] as const) {
      const { accessToken } = await app.login(role);
      expect((await app.request("GET", "/api/users", { token: accessToken })).status).toBe(403);
      expect((await app.request("POST", "/api/users", { token: accessToken, body: { username: `by-${role}`, role: "admin" } })).status).toBe(403);
      expect((await app.request("DELETE", `/api/users/${app.users.viewer.id}`, { token: accessToken })).status).toBe(403);
    }
    expect((await app.request("GET", "/api/users")).status).toBe(401);
  });

  test("disabling a user or changing their role revokes their tokens; other edits do not", async () => {
    const user = await createUser(app.prisma, { username: "carol", password: "carol-password-1", role: "viewer" });
    const session = await app.request("POST", "/api/login", { body: { username: "carol", password: "carol-password-1" } });
    const token = session.body.accessToken;
    const renamed = await app.request("PUT", `/api/users/${user.id}`, { token: admin, body: { displayName: "Carol C." } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ displayName: "Carol C.", role: "viewer" });
    expect(await stillValid(token)).toBe(true);

    const promoted = await app.request("PATCH", `/api/users/${user.id}`, { token: admin, body: { role: "operator" } });
    expect(promoted.body.role).toBe("operator");
    expect(await stillValid(token)).toBe(false);
    expect((await app.request("POST", "/api/refresh", { body: { refreshToken: session.body.refreshToken } })).status).toBe(401);

    const again = (await app.request("POST", "/api/login", { body: { username: "carol", password: "carol-password-1" } })).body.accessToken;
    expect((await app.request("PUT", `/api/users/${user.id}`, { token: admin, body: { disabled: true } })).body.disabled).toBe(true);
    expect(await stillValid(again)).toBe(false);
    expect((await app.request("POST", "/api/login", { body: { username: "carol", password: "carol-password-1" } })).status).toBe(401);

    const audits = await app.prisma.auditLog.findMany({ where: { action: "user.update", entityId: user.id }, orderBy: { id: "asc" } });
    expect(audits.map((a) => (a.details as { fields: string[] }).fields)).toEqual([["displayName"], ["role"], ["disabled"]]);
    expect(audits[1]!.details).toMatchObject({ changes: { role: { from: "viewer", to: "operator" } }, signedOut: true });
  });

  test("the last enabled admin cannot be demoted, disabled or deleted (409); with a second admin they can", async () => {
    const id = app.users.admin.id;
    for (const [method, body] of [["PUT", { role: "operator" }], ["PUT", { disabled: true }], ["DELETE", undefined]] as const) {
      const res = await app.request(method, `/api/users/${id}`, { token: admin, body });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("last_admin");
      expect(res.body.error.message).toMatch(/last enabled admin/);
    }
    expect(await app.prisma.user.findUniqueOrThrow({ where: { id } })).toMatchObject({ role: "admin", disabled: false });
    // A disabled admin does not count as a way back in.
    const spare = await app.request("POST", "/api/users", { token: admin, body: { username: "spare-admin", role: "admin", disabled: true } });
    expect((await app.request("PUT", `/api/users/${id}`, { token: admin, body: { role: "viewer" } })).status).toBe(409);
    expect((await app.request("PUT", `/api/users/${spare.body.id}`, { token: admin, body: { disabled: false } })).status).toBe(200);
    expect((await app.request("DELETE", `/api/users/${spare.body.id}`, { token: admin })).status).toBe(204);
  });

  test("deleting a user removes the row, keeps their audit entries and is audited", async () => {
    const user = await createUser(app.prisma, { username: "dave", password: "dave-password-1", role: "operator" });
    await app.request("POST", "/api/login", { body: { username: "dave", password: "dave-password-1" } });
    const res = await app.request("DELETE", `/api/users/${user.id}`, { token: admin });
    expect(res.status).toBe(204);
    expect(await app.prisma.user.findUnique({ where: { id: user.id } })).toBeNull();
    expect(await app.prisma.auditLog.findFirst({ where: { action: "auth.login", actorName: "dave" } })).toMatchObject({ actorId: null });
    expect(await app.prisma.auditLog.findFirst({ where: { action: "user.delete", entityId: user.id } })).toMatchObject({ summary: "deleted operator dave" });
    expect((await app.request("DELETE", `/api/users/${user.id}`, { token: admin })).status).toBe(404);
  });
});

describe("/api/users/me", () => {
  test("any role reads and edits its own profile, but not its role", async () => {
    const { accessToken } = await app.login("viewer");
    const me = await app.request("GET", "/api/users/me", { token: accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: app.users.viewer.id, username: "viewer", role: "viewer", displayName: "The viewer" });
    expect(me.text).not.toMatch(/passwordHash|argon2/);
    const edited = await app.request("PATCH", "/api/users/me", { token: accessToken, body: { displayName: "Vera", email: "vera@example.com", role: "admin" } });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ displayName: "Vera", email: "vera@example.com", role: "viewer" });
    expect(await stillValid(accessToken)).toBe(true);
    const bad = await app.request("PATCH", "/api/users/me", { token: accessToken, body: { email: "not-an-email" } });
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(["body.email"]);
    expect(await app.prisma.auditLog.count({ where: { action: "user.update", entityId: app.users.viewer.id, actorId: app.users.viewer.id } })).toBe(1);
  });

  test("a password change needs the current password, signs out other sessions and answers fresh tokens", async () => {
    await createUser(app.prisma, { username: "erin", password: "erin-password-1", role: "operator" });
    const signIn = () => app.request("POST", "/api/login", { body: { username: "erin", password: "erin-password-1" } });
    const here = (await signIn()).body;
    const elsewhere = (await signIn()).body;

    const wrong = await app.request("POST", "/api/users/me/password", { token: here.accessToken, body: { currentPassword: "not-my-password", newPassword: "erin-password-2" } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.details).toEqual([{ path: "body.currentPassword", message: expect.stringContaining("not your current password") }]);
    const weak = await app.request("POST", "/api/users/me/password", { token: here.accessToken, body: { currentPassword: "erin-password-1", newPassword: "short" } });
    expect(weak.body.error.details.map((d: { path: string }) => d.path)).toEqual(["body.newPassword"]);
    expect(await stillValid(elsewhere.accessToken)).toBe(true);

    const ok = await app.request("POST", "/api/users/me/password", { token: here.accessToken, body: { currentPassword: "erin-password-1", newPassword: "erin-password-2" } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ changed: true, accessToken: expect.any(String), refreshToken: expect.stringMatching(/^ocr_/) });
    expect(await stillValid(elsewhere.accessToken)).toBe(false);
    expect(await stillValid(here.accessToken)).toBe(false);
    expect(await stillValid(ok.body.accessToken)).toBe(true);
    expect((await app.request("POST", "/api/refresh", { body: { refreshToken: elsewhere.refreshToken } })).status).toBe(401);
    expect((await signIn()).status).toBe(401);
    expect((await app.request("POST", "/api/login", { body: { username: "erin", password: "erin-password-2" } })).status).toBe(200);
    const audit = await app.prisma.auditLog.findFirstOrThrow({ where: { action: "user.password_change" } });
    expect(audit.actorName).toBe("erin");
    expect(JSON.stringify([audit.summary, audit.details])).not.toContain("erin-password");
  });
});

describe("POST /api/register", () => {
  test("creates an enabled viewer (whatever role is asked for) that can sign in, and audits it", async () => {
    const res = await app.request("POST", "/api/register", { body: { username: "newcomer", password: "newcomer-password", email: "new@example.com", role: "admin" } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ username: "newcomer", role: "viewer", disabled: false, email: "new@example.com" });
    expect(res.text).not.toMatch(/passwordHash|argon2/);
    expect((await app.request("POST", "/api/login", { body: { username: "newcomer", password: "newcomer-password" } })).status).toBe(200);
    expect(await app.prisma.auditLog.findFirst({ where: { action: "user.register", entityId: res.body.id } })).toMatchObject({ actorId: res.body.id, actorName: "newcomer" });
  });

  test("is refused with 403 registration_disabled unless OPSCONDUCTOR_SELF_REGISTRATION is on", async () => {
    const res = await closed.request("POST", "/api/register", { body: { username: "hopeful", password: "hopeful-password" } });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("registration_disabled");
    expect(await closed.prisma.user.findUnique({ where: { username: "hopeful" } })).toBeNull();
  });

  test("rejects short passwords and taken names", async () => {
    const weak = await app.request("POST", "/api/register", { body: { username: "weakling", password: "short" } });
    expect(weak.body.error.details.map((d: { path: string }) => d.path)).toEqual(["body.password"]);
    const taken = await app.request("POST", "/api/register", { body: { username: "Admin", password: PASSWORDS.admin + "-long" } });
    expect(taken.status).toBe(409);
    expect(taken.body.error.details[0].path).toBe("body.username");
  });
});
