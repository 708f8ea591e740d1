import { cookieHeader, cookieValue, startApp } from "@opsconductor/testing/web";
import { describe, expect, test } from "vitest";

const app = await startApp();

describe("POST /api/login", () => {
  test("answers tokens in the body and as httpOnly SameSite=Lax cookies, and audits the sign-in", async () => {
    const res = await app.request("POST", "/api/login", { body: { username: "operator", password: "operator-password-1" } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ expiresIn: 900, user: { id: app.users.operator.id, username: "operator", role: "operator" } });
    expect(res.body.accessToken.split(".")).toHaveLength(3);
    expect(res.body.refreshToken).toMatch(/^ocr_/);
    const cookies = res.headers.getSetCookie();
    for (const name of ["oc_access", "oc_refresh"]) {
      const c = cookies.find((x) => x.startsWith(`${name}=`))!;
      expect(c).toMatch(/HttpOnly/);
      expect(c).toMatch(/SameSite=Lax/);
      expect(c).not.toMatch(/Secure/); // plain http here
    }
    expect(cookies.find((x) => x.startsWith("oc_csrf="))).not.toMatch(/HttpOnly/);
    const audit = await app.prisma.auditLog.findFirst({ where: { action: "auth.login", actorId: app.users.operator.id } });
    expect(audit).toMatchObject({ summary: "operator signed in", ip: expect.stringContaining("127.0.0.1") });
  });

  test("a wrong password and an unknown user get the same 401, and both are audited", async () => {
    const wrong = await app.request("POST", "/api/login", { body: { username: "viewer", password: "nope" } });
    const unknown = await app.request("POST", "/api/login", { body: { username: "nobody", password: "nope" } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error).toEqual({ code: "invalid_credentials", message: "wrong username or password" });
    const failures = await app.prisma.auditLog.findMany({ where: { action: "auth.login_failed" } });
    expect(failures.map((f) => f.details)).toEqual(expect.arrayContaining([{ username: "viewer", reason: "wrong password" }, { username: "nobody", reason: "unknown user" }]));
    expect(JSON.stringify(failures.map((f) => [f.summary, f.details]))).not.toContain("nope");
  });

  test("bad bodies get a 400 naming the field", async () => {
    const missing = await app.request("POST", "/api/login", { body: { username: "admin" } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe("validation_failed");
    expect(missing.body.error.details).toEqual([expect.objectContaining({ path: "body.password" })]);
    const broken = await app.request("POST", "/api/login", { rawBody: '{"username":', headers: { "content-type": "application/json" } });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe("invalid_json");
  });
});

describe("tokens", () => {
  test("GET /api/verify returns the principal for a Bearer token, 401 without or with a forged one", async () => {
    const { accessToken } = await app.login("viewer");
    const ok = await app.request("GET", "/api/verify", { token: accessToken });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ user: { id: app.users.viewer.id, username: "viewer", role: "viewer" } });
    expect((await app.request("GET", "/api/verify")).status).toBe(401);
    const [h, p, s] = accessToken.split(".");
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, "base64url").toString()), role: "admin" })).toString("base64url");
    expect((await app.request("GET", "/api/verify", { token: `${h}.${forgedPayload}.${s}` })).status).toBe(401);
  });

  test("a refresh token works exactly once; presenting it again revokes its whole family", async () => {
    const first = await app.login("operator");
    const second = await app.request("POST", "/api/refresh", { body: { refreshToken: first.refreshToken } });
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    expect((await app.request("GET", "/api/verify", { token: second.body.accessToken })).status).toBe(200);

    const replay = await app.request("POST", "/api/refresh", { body: { refreshToken: first.refreshToken } });
    expect(replay.status).toBe(401);
    expect(replay.body.error.message).toMatch(/already used/);
    // The thief's replay also kills the legitimate successor.
    const successor = await app.request("POST", "/api/refresh", { body: { refreshToken: second.body.refreshToken } });
    expect(successor.status).toBe(401);
    expect(await app.prisma.auditLog.count({ where: { action: "auth.refresh_reused", entityId: app.users.operator.id } })).toBe(1);
  });

  test("the refresh cookie works in place of the body, with the CSRF header a browser client sends", async () => {
    const { cookies } = await app.login("viewer");
    const res = await app.request("POST", "/api/refresh", { headers: { cookie: cookieHeader(cookies), "x-csrf-token": cookieValue(cookies, "oc_csrf")! } });
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie().some((c) => c.startsWith("oc_access="))).toBe(true);
  });

  test("revoke-all invalidates the caller's access and refresh tokens at once", async () => {
    const a = await app.login("viewer");
    const b = await app.login("viewer");
    const res = await app.request("POST", "/api/revoke-all", { token: a.accessToken });
    expect(res.status).toBe(200);
    for (const token of [a.accessToken, b.accessToken]) expect((await app.request("GET", "/api/verify", { token })).status).toBe(401);
    expect((await app.request("POST", "/api/refresh", { body: { refreshToken: b.refreshToken } })).status).toBe(401);
    expect(await app.prisma.auditLog.count({ where: { action: "auth.revoke_all", entityId: app.users.viewer.id } })).toBe(1);
  });

  test("an admin may revoke another user's tokens; an operator may not", async () => {
    const victim = await app.login("viewer");
    const operator = await app.login("operator");
    const denied = await app.request("POST", "/api/revoke-all", { token: operator.accessToken, body: { userId: app.users.viewer.id } });
    expect(denied.status).toBe(403);
    expect((await app.request("GET", "/api/verify", { token: victim.accessToken })).status).toBe(200);
    const admin = await app.login("admin");
    expect((await app.request("POST", "/api/revoke-all", { token: admin.accessToken, body: { userId: app.users.viewer.id } })).status).toBe(200);
    expect((await app.request("GET", "/api/verify", { token: victim.accessToken })).status).toBe(401);
    expect((await app.request("GET", "/api/verify", { token: admin.accessToken })).status).toBe(200);
  });

  test("logout revokes the session's refresh token and clears the cookies", async () => {
    const session = await app.login("operator");
    const res = await app.request("POST", "/api/logout", { token: session.accessToken, body: { refreshToken: session.refreshToken } });
    expect(res.status).toBe(204);
    expect(res.headers.getSetCookie().every((c) => /Max-Age=0/.test(c))).toBe(true);
    expect((await app.request("POST", "/api/refresh", { body: { refreshToken: session.refreshToken } })).status).toBe(401);
    expect(await app.prisma.auditLog.count({ where: { action: "auth.logout", actorId: app.users.operator.id } })).toBeGreaterThan(0);
  });
});

describe("revocation against concurrent refreshes", () => {
  /** `count` fresh viewers sharing one password hash (hashing 60 times would only slow the test). */
  async function viewers(prefix: string, count: number) {
    const { createLocalUser: createUser } = await import("../app/services/auth/local-users.server.ts");
    const first = await createUser(app.prisma, { username: `${prefix}0`, password: "race-password-1", role: "viewer" });
    await app.prisma.user.createMany({ data: Array.from({ length: count - 1 }, (_, i) => ({ username: `${prefix}${i + 1}`, role: "viewer" as const, passwordHash: first.passwordHash })) });
    return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  }

  async function survivors(sessions: { accessToken: string; refreshToken: string }[], revoke: (s: { accessToken: string; refreshToken: string }) => Promise<{ status: number }>) {
    const trials = await Promise.all(
      sessions.map(async (session, i) => {
        // Staggered starts, so some refreshes land inside the revocation's transaction and some around it.
        const refresh = new Promise((r) => setTimeout(r, i % 25)).then(() => app.request("POST", "/api/refresh", { body: { refreshToken: session.refreshToken } }));
        const [refreshed, revoked] = await Promise.all([refresh, revoke(session)]);
        expect(revoked.status).toBe(200);
        return refreshed.status === 200 ? (refreshed.body as { accessToken: string; refreshToken: string }) : null;
      }),
    );
    let alive = 0;
    for (const next of trials) {
      if (!next) continue;
      const verified = await app.request("GET", "/api/verify", { token: next.accessToken });
      const again = await app.request("POST", "/api/refresh", { body: { refreshToken: next.refreshToken } });
      if (verified.status === 200 || again.status === 200) alive++;
    }
    return alive;
  }

  test("60 parallel refresh + revoke-all pairs: no refreshed session survives", { timeout: 120_000 }, async () => {
    const names = await viewers("race", 60);
    const sessions = await Promise.all(names.map(async (username) => (await app.request("POST", "/api/login", { body: { username, password: "race-password-1" } })).body as { accessToken: string; refreshToken: string }));
    expect(await survivors(sessions, (s) => app.request("POST", "/api/revoke-all", { token: s.accessToken }))).toBe(0);
  });

  test("20 parallel refresh + password change pairs: no refreshed session survives", { timeout: 120_000 }, async () => {
    const names = await viewers("pwrace", 20);
    const sessions = await Promise.all(names.map(async (username) => (await app.request("POST", "/api/login", { body: { username, password: "race-password-1" } })).body as { accessToken: string; refreshToken: string }));
    const change = (s: { accessToken: string }) => app.request("POST", "/api/users/me/password", { token: s.accessToken, body: { currentPassword: "race-password-1", newPassword: "race-password-2" } });
    expect(await survivors(sessions, change)).toBe(0);
  });

  test("reuse of a spent refresh token also kills the access tokens its family was given", async () => {
    const first = await app.login("operator");
    const thief = await app.request("POST", "/api/refresh", { body: { refreshToken: first.refreshToken } });
    expect(thief.status).toBe(200);
    expect((await app.request("POST", "/api/refresh", { body: { refreshToken: first.refreshToken } })).status).toBe(401);
    expect((await app.request("GET", "/api/verify", { token: thief.body.accessToken })).status).toBe(401);
  });

  test("logout kills the session's access token, not only its refresh token", async () => {
    const session = await app.login("operator");
    expect((await app.request("POST", "/api/logout", { body: { refreshToken: session.refreshToken } })).status).toBe(204);
    expect((await app.request("GET", "/api/verify", { token: session.accessToken })).status).toBe(401);
    // A session already signed out changes nothing for the others.
    const other = await app.login("operator");
    expect((await app.request("POST", "/api/logout", { body: { refreshToken: session.refreshToken } })).status).toBe(204);
    expect((await app.request("GET", "/api/verify", { token: other.accessToken })).status).toBe(200);
  });
});

describe("throttling", () => {
  const login = (username: string, password: string) => app.request("POST", "/api/login", { body: { username, password } });
  const sleep = (sec: number) => new Promise((r) => setTimeout(r, sec * 1000));

  test("300 parallel wrong guesses: the attempt is counted before the password check, so only the free ones are checked", { timeout: 120_000 }, async () => {
    const { createLocalUser: createUser } = await import("../app/services/auth/local-users.server.ts");
    await createUser(app.prisma, { username: "guessed", password: "right-password-1", role: "viewer" });
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => login("guessed", `wrong-${i}`)));
    const elapsedSec = (Date.now() - started) / 1000;
    const checked = answers.filter((a) => a.status === 401).length;
    expect(checked).toBeGreaterThan(0);
    // Three free failures (LOGIN_FREE_FAILURES_PER_ACCOUNT), then one more per doubling delay that ran out during the burst.
    expect(checked).toBeLessThanOrEqual(3 + Math.floor(Math.log2(elapsedSec + 1)));
    expect(answers.every((a) => a.status === 401 || a.status === 429)).toBe(true);
    expect(await app.prisma.auditLog.count({ where: { action: "auth.login_failed", details: { path: ["username"], equals: "guessed" } } })).toBe(checked);
  });

  test("failures make an account wait longer each time, never lock it: after five wrong guesses the right password works within seconds", { timeout: 60_000 }, async () => {
    const { createLocalUser: createUser } = await import("../app/services/auth/local-users.server.ts");
    await createUser(app.prisma, { username: "throttled", password: "right-password-1", role: "viewer" });
    const waits: number[] = [];
    for (let i = 0; i < 5; ) {
      const res = await login("throttled", `wrong-${i}`);
      if (res.status === 429) {
        expect(res.body.error.code).toBe("too_many_attempts");
        waits.push(Number(res.headers.get("retry-after")));
        await sleep(waits.at(-1)!);
        continue;
      }
      expect(res.status).toBe(401);
      i++;
    }
    // Three free failures, then 1 s and 2 s before the fourth and fifth attempts.
    expect(waits).toEqual([1, 2]);
    const early = await login("THROTTLED", "right-password-1");
    expect(early.status).toBe(429);
    const wait = Number(early.headers.get("retry-after"));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(4);
    await sleep(wait);
    expect((await login("throttled", "right-password-1")).status).toBe(200);
    // A success starts the account afresh.
    expect((await login("throttled", "wrong-again")).status).toBe(401);
    expect((await login("throttled", "right-password-1")).status).toBe(200);
    // Other accounts were never affected.
    expect((await login("viewer", "viewer-password-1")).status).toBe(200);
  });

  test("the throttle lives in PostgreSQL: a delay another web process recorded holds here too", async () => {
    const now = Date.now();
    await app.prisma.$executeRaw`
      INSERT INTO login_throttle (key, failures, window_start, not_before, updated_at) VALUES ('account:viewer', 9, ${new Date(now)}, ${new Date(now + 30_000)}, ${new Date(now)})
      ON CONFLICT (key) DO UPDATE SET failures = 9, not_before = EXCLUDED.not_before, updated_at = EXCLUDED.updated_at`;
    const res = await login("viewer", "viewer-password-1");
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(25);
    await app.prisma.$executeRaw`UPDATE login_throttle SET failures = 0 WHERE key = 'account:viewer'`;
    expect((await login("viewer", "viewer-password-1")).status).toBe(200);
  });

  test("refused sign-ins are audited as one row per account and window, with a count", async () => {
    const now = Date.now();
    await app.prisma.$executeRaw`INSERT INTO login_throttle (key, failures, window_start, not_before, updated_at) VALUES ('account:flooded', 9, ${new Date(now)}, ${new Date(now + 60_000)}, ${new Date(now)})`;
    for (let i = 0; i < 40; i++) expect((await login("flooded", `guess-${i}`)).status).toBe(429);
    const rows = await app.prisma.auditLog.findMany({ where: { action: "auth.login_throttled", details: { path: ["username"], equals: "flooded" } } });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.details).toMatchObject({ username: "flooded", throttledBy: "account", count: 40 });
    expect(rows[0]!.summary).toMatch(/refused: too many failed attempts \(40 times since \d\d:\d\d UTC\)/);
  });
});

test("one address is throttled after too many failures across accounts", async () => {
  const strict = await startApp({ LOGIN_MAX_FAILURES_PER_IP: "3" });
  for (const username of ["a1", "a2", "a3"]) expect((await strict.request("POST", "/api/login", { body: { username, password: "guess" } })).status).toBe(401);
  const blocked = await strict.request("POST", "/api/login", { body: { username: "viewer", password: "viewer-password-1" } });
  expect(blocked.status).toBe(429);
  expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
});

describe("CSRF", () => {
  test("a cookie-authenticated mutation needs the CSRF token echoed in a header", async () => {
    const { cookies } = await app.login("admin");
    const cookie = cookieHeader(cookies);
    const without = await app.request("POST", "/api/revoke-all", { headers: { cookie }, body: { userId: app.users.viewer.id } });
    expect(without.status).toBe(403);
    expect(without.body.error.code).toBe("csrf_failed");
    const withToken = await app.request("POST", "/api/revoke-all", { headers: { cookie, "x-csrf-token": cookieValue(cookies, "oc_csrf")! }, body: { userId: app.users.viewer.id } });
    expect(withToken.status).toBe(200);
  });

  test("a request from a foreign origin is refused, and reads by cookie still work", async () => {
    const { cookies } = await app.login("operator");
    const cookie = cookieHeader(cookies);
    const foreign = await app.request("POST", "/api/logout", { headers: { cookie, origin: "https://evil.example", "x-csrf-token": cookieValue(cookies, "oc_csrf")! } });
    expect(foreign.status).toBe(403);
    expect((await app.request("GET", "/api/verify", { headers: { cookie } })).status).toBe(200);
  });
});

test("behind a proxy, the configured public URL counts as this site's origin", async () => {
  const proxied = await startApp({ OPSCONDUCTOR_PUBLIC_URL: "https://ops.example.com" });
  const { cookies } = await proxied.login("operator");
  const headers = { cookie: cookieHeader(cookies), "x-csrf-token": cookieValue(cookies, "oc_csrf")! };
  expect(cookies.every((c) => /; Secure/.test(c))).toBe(true);
  expect((await proxied.request("POST", "/api/logout", { headers: { ...headers, origin: "https://ops.example.com" } })).status).toBe(204);
  expect((await proxied.request("POST", "/api/logout", { headers: { ...headers, origin: "https://elsewhere.example.com" } })).status).toBe(403);
});

test("every response carries the security headers", async () => {
  for (const path of ["/health", "/api/verify", "/"]) {
    const res = await app.request("GET", path);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/);
    expect(res.headers.get("content-security-policy")).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+'/);
    expect(res.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
  }
});
